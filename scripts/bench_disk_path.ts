/**
 * Benchmarks behind the worker pool's write path (ARCHITECTURE.md, step 8).
 *
 *   deno run -A scripts/bench_disk_path.ts write [--size-mib 1024] [--rounds 5]
 *       [--dirty-mib 0] [--flushing] [--pause-s 4] [--modes direct,buffered,writeback,nosync,dsync]
 *   deno run -A scripts/bench_disk_path.ts dispatch [--size-mib 1024] [--rounds 5]
 *
 * `write`: each mode streams `size` MiB of 1 MiB pieces from the main isolate to one worker
 * that writes them (fresh process per run, modes alternating), then makes them durable
 * (`fdatasync`, as the pool does when a storage closes). Modes: `direct` (O_DIRECT,
 * `DirectWriter`), `buffered` (page cache, one `fdatasync` at the end), `writeback`
 * (page cache with `WriteBack`: an async `fdatasync` every 32 MiB), `nosync` (page cache,
 * never synced, as libtorrent leaves it), `dsync` (opened `O_DSYNC`). `--dirty-mib N` writes
 * N MiB of dirty page cache with `dd` just before each run (another process's download);
 * `--flushing` also starts `sync` so that writeback is under way during the run. Between
 * runs the script waits `--pause-s` so that freed memory is handed back to the host (this
 * VM reports free pages): every run then pays for fresh page-cache memory, as a download
 * of new data does. Reports wall time, the process's CPU time, all CPUs' busy time and
 * iowait from /proc/stat, and peak RSS.
 *
 * `dispatch`: 1 MiB pieces through two workers that hash and write (O_DIRECT) them, three
 * ways: `single` (one worker hashes and writes: the pool's way), `relay` (one worker hashes,
 * the main isolate relays the buffer to the other, which writes), `channel` (the hasher hands
 * the buffer to the writer over a MessageChannel). Reports wall time, main-thread CPU and
 * process CPU.
 * @module
 */
import * as fs from "node:fs";
import process from "node:process";
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { DirectWriter } from "../src/deno/direct_writer.ts";
import { WriteBack, type WriteBackState } from "../src/deno/write_back.ts";

const PIECE = 1024 * 1024;
const IN_FLIGHT = 16; // pieces in flight, as the pool's 16 MiB mark

interface WorkerScope {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(m: unknown, transfer?: Transferable[]): void;
}

const isWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";

if (isWorker) workerMain();
else if (Deno.args[0] === "--child") await childMain(Deno.args.slice(1));
else await parentMain();

/** Worker side of both benchmarks. */
function workerMain(): void {
  const scope = self as unknown as WorkerScope;
  let fd = -1;
  let direct: number | undefined;
  let mode = "";
  let writer = new DirectWriter(false);
  const writeBack = new WriteBack();
  let state: WriteBackState = { fd: -1, unflushed: 0, flushing: undefined };
  let peer: MessagePort | undefined;
  const write = (bytes: Uint8Array, pos: number) => {
    const buffered = writer.write({ bytes, at: 0, length: bytes.length, pos }, fd, direct);
    if (mode === "writeback") writeBack.wrote(state, buffered);
  };
  const onJob = (m: { buf: ArrayBuffer; pos: number; hash: boolean; write: boolean }) => {
    const bytes = new Uint8Array(m.buf);
    if (m.hash) createHash("sha1").update(bytes).digest();
    if (!m.write && peer) return peer.postMessage({ ...m, hash: false, write: true }, [m.buf]);
    if (m.write) write(bytes, m.pos);
    scope.postMessage({ buf: m.buf, pos: m.pos, written: m.write }, [m.buf]);
  };
  scope.onmessage = (e) => {
    const m = e.data;
    if (m.open) {
      mode = m.mode;
      const flags = fs.constants.O_RDWR | fs.constants.O_CREAT |
        (mode === "dsync" ? fs.constants.O_DSYNC : 0);
      fd = fs.openSync(m.path, flags, 0o644);
      writer = new DirectWriter(mode === "direct");
      direct = writer.openDirect(m.path);
      state = { fd, unflushed: 0, flushing: undefined };
      scope.postMessage({ opened: true });
    } else if (m.port) {
      peer = m.port;
      peer!.onmessage = (ev) => onJob(ev.data);
    } else if (m.finish) {
      const t = performance.now();
      if (mode !== "nosync") fs.fdatasyncSync(fd);
      scope.postMessage({ finished: true, syncMs: performance.now() - t });
    } else onJob(m);
  };
}

/** Thread CPU seconds of this process's main thread (Linux). */
function mainThreadCpuS(): number {
  const stat = Deno.readTextFileSync(`/proc/self/task/${Deno.pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function procStat(): number[] {
  return Deno.readTextFileSync("/proc/stat").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
}

/** One measured run in a fresh process; prints one JSON line. */
async function childMain(args: string[]): Promise<void> {
  const [kind, mode, sizeMib, path] = args as [string, string, string, string];
  const pieces = Number(sizeMib);
  const workers = Array.from(
    { length: kind === "write" ? 1 : 2 },
    () => new Worker(import.meta.url, { type: "module" }),
  );
  const free: ArrayBuffer[] = [];
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let control: ((m: Record<string, unknown>) => void) | undefined;
  workers.forEach((w, i) => {
    w.onmessage = (e) => {
      const { buf, pos, written } = e.data;
      if (buf && !written) {
        // relay: the hasher's verdict came back; the other worker writes
        workers[(i + 1) % 2]!.postMessage({ buf, pos, hash: false, write: true }, [buf]);
      } else if (buf) {
        free.push(buf);
        inFlight--;
        wake?.();
      } else control?.(e.data);
    };
  });
  const ask = (w: Worker, m: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve) => {
      control = resolve;
      w.postMessage(m);
    });
  const cpu0 = process.cpuUsage();
  const stat0 = procStat();
  const main0 = mainThreadCpuS();
  const t0 = performance.now();
  for (const w of workers) {
    await ask(w, { open: true, path, mode: kind === "write" ? mode : "direct" });
  }
  if (mode === "channel") {
    const { port1, port2 } = new MessageChannel();
    workers[0]!.postMessage({ port: port1 }, [port1]);
    workers[1]!.postMessage({ port: port2 }, [port2]);
  }
  for (let i = 0; i < pieces; i++) {
    while (inFlight >= IN_FLIGHT) await new Promise<void>((r) => wake = r);
    const buf = free.pop() ?? new ArrayBuffer(PIECE);
    new Uint8Array(buf)[0] = i & 255;
    inFlight++;
    const pos = i * PIECE;
    if (kind === "write") workers[0]!.postMessage({ buf, pos, hash: false, write: true }, [buf]);
    else {
      // single: one worker hashes and writes; relay and channel: it only hashes, and the
      // buffer reaches the other worker through the main isolate or over the channel
      const write = mode === "single";
      workers[i % 2]!.postMessage({ buf, pos, hash: true, write }, [buf]);
    }
  }
  while (inFlight > 0) await new Promise<void>((r) => wake = r);
  let syncMs = 0;
  for (const w of workers) syncMs += Number((await ask(w, { finish: true })).syncMs);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stat1 = procStat();
  const busy = (s: number[]) => s[0]! + s[1]! + s[2]! + s[5]! + s[6]!;
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]);
  for (const w of workers) w.terminate();
  console.log(JSON.stringify({
    mode,
    wallS,
    finalSyncS: syncMs / 1000,
    cpuS: (cpu.user + cpu.system) / 1e6,
    mainCpuS: mainThreadCpuS() - main0,
    allCpusBusyS: (busy(stat1) - busy(stat0)) / 100,
    iowaitS: (stat1[4]! - stat0[4]!) / 100,
    rssMiB: Math.round(hwm / 1024),
  }));
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed`);
}

async function parentMain(): Promise<void> {
  const { positionals, values } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      "size-mib": { type: "string", default: "1024" },
      rounds: { type: "string", default: "5" },
      "dirty-mib": { type: "string", default: "0" },
      flushing: { type: "boolean", default: false },
      "pause-s": { type: "string", default: "4" },
      modes: { type: "string" },
      dir: { type: "string", default: "/tmp/swarmd-bench-disk" },
    },
  });
  const kind = positionals[0] ?? "write";
  if (kind !== "write" && kind !== "dispatch") throw new Error(`unknown benchmark "${kind}"`);
  const modes = (values.modes ??
    (kind === "write" ? "direct,buffered,writeback,nosync,dsync" : "single,relay,channel"))
    .split(",");
  const dirty = Number(values["dirty-mib"]);
  const dir = values.dir!;
  await Deno.mkdir(dir, { recursive: true });
  const target = `${dir}/target.bin`, scratch = `${dir}/dirty.bin`;
  const rows: Record<string, number | string>[] = [];
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const mode of round % 2 ? [...modes].reverse() : modes) {
        await Deno.remove(target).catch(() => {});
        let syncing: Deno.ChildProcess | undefined;
        if (dirty > 0) {
          await run("dd", ["if=/dev/zero", `of=${scratch}`, "bs=1M", `count=${dirty}`]);
          if (values.flushing) syncing = new Deno.Command("sync").spawn();
        }
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            import.meta.filename!,
            "--child",
            kind,
            mode,
            values["size-mib"]!,
            target,
          ],
          stderr: "inherit",
        }).output();
        const row = JSON.parse(new TextDecoder().decode(out.stdout));
        rows.push(row);
        console.log(JSON.stringify(row));
        await syncing?.status;
        await Deno.remove(target).catch(() => {});
        await Deno.remove(scratch).catch(() => {});
        await run("sync", []);
        await new Promise((r) => setTimeout(r, Number(values["pause-s"]) * 1000));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  const f = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${s[0]!.toFixed(2)} / ${s[s.length >> 1]!.toFixed(2)} / ${s.at(-1)!.toFixed(2)}`;
  };
  console.log(
    `\n${kind}, ${values["size-mib"]} MiB, min / median / max of ${values.rounds} runs` +
      (dirty
        ? `, ${dirty} MiB dirtied just before${values.flushing ? " and being flushed" : ""}`
        : ""),
  );
  for (const mode of modes) {
    const mine = rows.filter((r) => r.mode === mode);
    const col = (k: string) => f(mine.map((r) => Number(r[k])));
    console.log(
      `  ${mode.padEnd(10)} wall ${col("wallS")} s  final sync ${col("finalSyncS")} s  ` +
        `cpu ${col("cpuS")} s  main ${col("mainCpuS")} s  all CPUs ${col("allCpusBusyS")} s  ` +
        `rss ${col("rssMiB")} MiB`,
    );
  }
}
