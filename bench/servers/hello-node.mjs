// Section "cost", Node part: bench/servers/hello.ts in plain JavaScript, so Node runs it without a
// TypeScript loader (tsx's loader hooks showed up in the profiles of both modes). MODE=bare | wrapped.
import { serve } from "@hono/node-server";
import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";

function noop() {}

function bare(_request) {
  return new Response("Hello, World!");
}

const wrapped = withBackgroundTasks((request) => {
  getBackgroundTasks(request).addTask(noop);
  return new Response("Hello, World!");
});

// A signal ends the process normally, so a sampling profiler (--cpu-prof) can write its profile.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
serve({ fetch: process.env.MODE === "wrapped" ? wrapped : bare, port: Number(process.env.PORT ?? 3000), hostname: "127.0.0.1" });
