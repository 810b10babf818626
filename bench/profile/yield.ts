// Which way of giving the event loop back lets a Bun server answer while CSVs are parsed on
// its own thread? One Bun.serve process parses two copies of a CSV (csv-parse, 16 KiB reads, as
// the example's task does) while wrk loads a JSON route, once per strategy:
//   pipe       no yield: for await over createReadStream(file).pipe(parse()), the usual way
//   none       no yield: for await over the file's chunks, each written to the parser
//   timeout    await setTimeout(0) after every 3 ms of work
//   immediate  await setImmediate after every 3 ms of work
//   message    a MessageChannel round trip after every 3 ms of work
//
//   bun bench/profile/yield.ts <file.csv> [seconds=4] [strategies=none,timeout,immediate,message]
//   (generate a file with: node -e 'import("./bench/lib/csv.mjs").then(m => m.generateCsv("/tmp/80mb.csv", 80e6))')
// Prints, per strategy, the requests per second and p50/p99 latency during the parse, and how
// long the two parses took. Run it under `flock /tmp/bench.lock`.
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";

const [file, seconds = "4", list = "pipe,none,timeout,immediate,message"] = process.argv.slice(2);
if (!file) throw new Error("usage: bun bench/profile/yield.ts <file.csv> [seconds] [strategies]");
const SLICE_MS = 3;

const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()!();
const strategies: Record<string, (() => Promise<void>) | undefined> = {
  pipe: undefined,
  none: undefined,
  timeout: () => new Promise((resolve) => setTimeout(resolve, 0)),
  immediate: () => new Promise((resolve) => setImmediate(resolve)),
  message: () => new Promise((resolve) => (waiting.push(resolve), channel.port2.postMessage(0))),
};

async function parseOnce(yieldNow: (() => Promise<void>) | undefined, piped: boolean): Promise<number> {
  let rows = 0;
  if (piped) {
    for await (const _record of createReadStream(file!).pipe(parse({ bom: true, skip_empty_lines: true }))) rows++;
    return rows;
  }
  const parser = parse({ bom: true, skip_empty_lines: true, record_delimiter: ["\r\n", "\n", "\r"] });
  parser.on("data", () => rows++);
  const ended = new Promise((resolve, reject) => (parser.on("end", resolve), parser.on("error", reject)));
  let sliceStart = performance.now();
  for await (const chunk of createReadStream(file!, { highWaterMark: 16 * 1024 })) {
    parser.write(chunk);
    if (yieldNow && performance.now() - sliceStart >= SLICE_MS) {
      await yieldNow();
      sliceStart = performance.now();
    }
  }
  parser.end();
  await ended;
  return rows;
}

const server = Bun.serve({ port: 0, fetch: () => Response.json({ message: "Notification sent in the background" }) });
for (const name of list.split(",")) {
  if (!(name in strategies)) throw new Error(`unknown strategy ${name}; known: ${Object.keys(strategies).join(", ")}`);
  const started = performance.now();
  const parses = Promise.all([parseOnce(strategies[name], name === "pipe"), parseOnce(strategies[name], name === "pipe")]);
  // wrk runs in a child process; Bun.spawn keeps this event loop free to answer it.
  const wrk = Bun.spawn(["wrk", "-t1", "-c8", `-d${seconds}s`, "--latency", `http://127.0.0.1:${server.port}/`]);
  const out = await new Response(wrk.stdout).text();
  const rows = await parses;
  const ms = performance.now() - started;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
  const p50 = /\s50%\s+(\S+)/.exec(out)?.[1];
  const p99 = /\s99%\s+(\S+)/.exec(out)?.[1];
  console.log(
    `${name.padEnd(10)} ${rps} req/s  p50 ${p50}  p99 ${p99}  parses ${(ms / 1000).toFixed(1)} s (${rows.join(" + ")} rows)${
      ms / 1000 < Number(seconds) ? "  (parses ended before the load run)" : ""
    }`,
  );
}
server.stop(true);
channel.port1.close(); // an open port would keep the process alive
channel.port2.close();
