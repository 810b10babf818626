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
});
