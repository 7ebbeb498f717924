/**
 * Every decoder of remote bytes and the seeded fuzz test that covers it (STYLE §7):
 * what `deno task fuzz` runs and `scripts/fuzz_report.ts` tabulates. A new parser gets a
 * line here and a `fuzzCases()` test (its name containing "fuzz") beside its code.
 * @module
 */

/** One fuzz target. */
export interface FuzzTarget {
  /** The `fuzzCases()` names its test file prints, in order. */
  readonly names: readonly string[];
  /** What it parses. */
  readonly parsers: string;
  /** The test file, from the repository root. */
  readonly test: string;
  /** Set while the parser does not exist yet: who brings it. */
  readonly pending?: string;
}

/** The targets, lowest layer first. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  {
    names: ["bencode"],
    parsers: "bencode decode (limits, spans)",
    test: "src/bencode/bencode_test.ts",
  },
  {
    names: ["metainfo", "magnet"],
    parsers: "parseTorrent (.torrent), parseMagnet",
    test: "src/metainfo/fuzz_test.ts",
  },
  {
    names: ["wire", "wire"],
    parsers: "WireFramer and decodeMessage; BEP 3 and BEP 10 handshakes",
    test: "src/wire/wire_fuzz_test.ts",
  },
  {
    names: ["ut_metadata", "ut_pex"],
    parsers: "ut_metadata and ut_pex messages",
    test: "src/extensions/extensions_fuzz_test.ts",
  },
  { names: ["krpc"], parsers: "KRPC (DHT) messages", test: "src/dht/krpc_test.ts" },
  {
    names: ["http-tracker"],
    parsers: "HTTP tracker announce and scrape replies",
    test: "src/tracker/http_codec_test.ts",
  },
  {
    names: ["udp-tracker"],
    parsers: "UDP tracker requests and replies",
    test: "src/tracker/udp_codec_test.ts",
  },
  {
    names: ["tracker-server-http", "tracker-server-udp"],
    parsers: "tracker server: HTTP queries, UDP requests (whole handlers)",
    test: "src/tracker/server/server_fuzz_test.ts",
  },
  {
    names: ["mse"],
    parsers: "MSE/PE handshake (both roles)",
    test: "src/net/mse/mse_fuzz_test.ts",
  },
  { names: ["resume"], parsers: "resume data", test: "src/storage/resume_test.ts" },
  {
    names: ["utp", "utp_connection"],
    parsers: "uTP packet header and extensions (BEP 29); connection cores fed mutated packets",
    test: "src/net/utp/packet_fuzz_test.ts",
  },
];
