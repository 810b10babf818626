// The baseline of bench/bullmq.mjs: plain BullMQ in a Bun server, as a user
// without this library would write it. GET /task/{id} adds a "record-run"
// job with Queue.add (awaited, so the job is in Redis before the answer, as
// with BullMQTaskRunner) and answers "ok". Same job options as the runner's
// defaults; BullMQ's own job ids. Env: REDIS_URL, QUEUE_NAME. Prints "listening <port>".
import process from "node:process";
import { Queue } from "bullmq";

const queue = new Queue(process.env.QUEUE_NAME!, { connection: { url: process.env.REDIS_URL! } });
const options = { attempts: 1, removeOnComplete: { age: 86_400, count: 1_000 }, removeOnFail: { age: 604_800, count: 10_000 } };

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/task/")) return new Response("not found", { status: 404 });
    const id = url.pathname.slice("/task/".length);
    await queue.add("record-run", { v: 1, args: [id], request: { method: request.method, url: request.url } }, options);
    return new Response("ok");
  },
});
console.log(`listening ${server.port}`);
