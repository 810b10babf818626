// The upload receivers side by side on Bun.serve, for bench/upload-parser.mjs:
//   POST /ours   examples/app/uploads/receiveFile.ts, to a file
//   POST /alt/N  the receiveFile of the N-th module in $ALT_RECEIVE_FILES (comma-separated paths), if set
//   POST /floor  no parsing: the raw body written to a file, chunk by chunk (what any receiver must do)
// Each request stores to a fresh file in $UPLOAD_DIR and removes it after answering.
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import { receiveFile as ours } from "../../examples/app/uploads/receiveFile.ts";

type Receive = typeof ours;
const alts: Receive[] = [];
for (const path of (process.env.ALT_RECEIVE_FILES ?? "").split(",").filter(Boolean)) alts.push((await import(path)).receiveFile);
const dir = process.env.UPLOAD_DIR!;
let next = 0;

async function floor(request: Request, path: string): Promise<number> {
  const handle = await open(path, "w");
  let bytes = 0;
  try {
    for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return bytes;
}

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  maxRequestBodySize: Number.MAX_SAFE_INTEGER,
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const path = join(dir, `${process.pid}-${next++}.csv`);
    try {
      const receive = pathname === "/ours" ? ours : pathname.startsWith("/alt/") ? alts[Number(pathname.slice(5))] : undefined;
      if (pathname === "/floor") return Response.json({ bytes: await floor(request, path) });
      if (receive === undefined) return new Response("not found", { status: 404 });
      const file = await receive(request, { field: "file", path, maxBytes: 1024 * 1024 * 1024 });
      return Response.json(file);
    } catch (error) {
      return Response.json({ error: String(error) }, { status: 500 });
    } finally {
      await rm(path, { force: true });
    }
  },
});
console.log(`listening ${server.port}`);
