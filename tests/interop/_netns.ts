/**
 * Runs a program in a private network namespace (`unshare -rn`: its own user and network
 * namespaces, no interface but `lo`), with extra addresses on that `lo`; also in its own
 * PID namespace (`--pid --fork --kill-child`), so that every process it starts is killed
 * when it exits or when `unshare` is killed: nothing outlives a test. For peers that
 * refuse loopback addresses (Transmission 3.00 never dials 127.0.0.0/8): in the namespace
 * every address is local to the machine and nothing reaches a real network, as on
 * 127.0.0.x, but 10.77.0.x is not "martian" to them. Everything the program starts stays
 * in the namespace, which vanishes with its last process.
 * @module
 */

const UNSHARE = "/usr/bin/unshare";
const UNSHARE_FLAGS = ["-rn", "--pid", "--fork", "--kill-child"];
const IP = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];

let ipPath: Promise<string | undefined> | undefined;

function findIp(): Promise<string | undefined> {
  ipPath ??= (async () => {
    for (const path of IP) if (await Deno.stat(path).then(() => true, () => false)) return path;
    return undefined;
  })();
  return ipPath;
}

let usable: Promise<boolean> | undefined;

/**
 * Whether this machine lets us make a network namespace and bring its `lo` up (cached):
 * `unshare` and `ip` exist and user namespaces are allowed.
 * @returns true when {@linkcode netnsCommand} will work
 */
export function netnsAvailable(): Promise<boolean> {
  usable ??= (async () => {
    const ip = await findIp();
    if (!ip) return false;
    try {
      const { code } = await new Deno.Command(UNSHARE, {
        args: [...UNSHARE_FLAGS, ip, "link", "set", "lo", "up"],
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(10_000),
      }).output();
      return code === 0;
    } catch {
      return false; // no unshare at all: the namespace is simply unavailable
    }
  })();
  return usable;
}

/**
 * A command that runs `argv` in a fresh network namespace whose `lo` is up and also holds
 * `hosts` (each as a /32).
 * @param argv the program and its arguments
 * @param o the addresses, more environment, and a signal that kills `unshare` (and with it
 *   every process in the namespace)
 * @returns the command (spawn it; stdout and stderr are piped)
 * @throws {Error} when `ip` is missing (check {@linkcode netnsAvailable} first)
 */
export async function netnsCommand(
  argv: readonly string[],
  o: { hosts: readonly string[]; env?: Record<string, string>; signal?: AbortSignal },
): Promise<Deno.Command> {
  const ip = await findIp();
  if (!ip) throw new Error("Cannot make a network namespace: no ip command");
  const setup = [
    `"${ip}" link set lo up`,
    ...o.hosts.map((h) => `"${ip}" addr add ${h}/32 dev lo`),
  ];
  return new Deno.Command(UNSHARE, {
    args: [
      ...UNSHARE_FLAGS,
      "--",
      "/bin/sh",
      "-c",
      `${setup.join(" && ")} && exec "$@"`,
      "sh",
      ...argv,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(o.env ? { env: o.env } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
}
