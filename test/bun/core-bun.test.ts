// Core behaviour that only a real Bun.serve shows.
import { describe, expect, it } from "bun:test";
import { getBackgroundTasks, TaskRunner, withBackgroundTasks } from "../../src/mod.ts";
import type { TaskErrorInfo } from "../../src/mod.ts";

describe("withBackgroundTasks on Bun.serve", () => {
  // Reading request.url costs Bun ~7 % of a trivial request, so the core never reads it on the hot
  // path; Bun keeps the URL that was read during the request (every router reads it).
  it("reports the URL the handler saw, though Bun forgets unread URLs once the response is sent", async () => {
    const reports: TaskErrorInfo[] = [];
    const runner = new TaskRunner({ onError: (_error, info) => void reports.push(info) });
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: withBackgroundTasks((request: Request) => {
        if (new URL(request.url).pathname !== "/orders/42") return new Response("not found", { status: 404 });
        getBackgroundTasks(request).addTask(function failsLater() {
          throw new Error("boom");
        });
        return new Response("ok");
      }, { runner }),
    });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/orders/42?x=1`, { method: "POST" });
      expect(await response.text()).toBe("ok");
      for (let i = 0; i < 100 && reports.length === 0; i++) await Bun.sleep(10);
      expect(reports).toHaveLength(1);
      expect(reports[0]!.request).toEqual({ method: "POST", url: `http://127.0.0.1:${server.port}/orders/42?x=1` });
    } finally {
      server.stop(true);
    }
  });

  // A slow reader keeps its request in flight while other requests finish around it: their checks
  // must not start its task.
  it("starts a large body's task only once a slow reader has taken the last byte, while quick requests finish", async () => {
    const runner = new TaskRunner();
    const started: Record<string, number> = {};
    const big = "x".repeat(8 * 1024 * 1024);
    const bigHandled = Promise.withResolvers<void>();
    const quickStarted = Promise.withResolvers<void>();
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: withBackgroundTasks((request: Request) => {
        const name = new URL(request.url).pathname.slice(1);
        getBackgroundTasks(request).addTask(() => {
          started[name] = performance.now();
          if (Object.keys(started).filter((key) => key.startsWith("quick")).length === 5) quickStarted.resolve();
        });
        if (name === "big") bigHandled.resolve();
        return new Response(name === "big" ? big : "ok");
      }, { runner }),
    });
    const net = await import("node:net");
    const socket = net.connect(server.port, "127.0.0.1");
    try {
      let received = 0;
      const allReceived = new Promise<number>((resolve) => {
        socket.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received >= big.length) resolve(performance.now());
        });
      });
      socket.pause();
      socket.write("GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n");
      await bigHandled.promise;
      for (let i = 0; i < 5; i++) {
        expect(await (await fetch(`http://127.0.0.1:${server.port}/quick${i}`)).text()).toBe("ok");
      }
      // Every quick request's task started (the checks ran around the big one): the big one's did not.
      await quickStarted.promise;
      expect(started.big).toBeUndefined();
      const resumed = performance.now();
      socket.resume();
      const lastByte = await allReceived;
      for (let i = 0; i < 100 && started.big === undefined; i++) await Bun.sleep(10); // polls for the start, up to 1 s
      expect(started.big).toBeGreaterThan(resumed);
      expect(started.big).toBeGreaterThan(lastByte - 50); // the last chunk may be read a moment after Bun wrote it
    } finally {
      socket.destroy();
      server.stop(true);
    }
  });
});
