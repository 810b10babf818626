// Section "cost", Elysia part: a plain route vs the same route with our plugin adding one no-op task.
// MODE=plain | plugin. Bun only.
import { Elysia } from "elysia";
import { backgroundTasks } from "@background/tasks/elysia";

function noop(): void {}

const port = Number(process.env.PORT ?? 3000);
if (process.env.MODE === "plugin") {
  new Elysia()
    .use(backgroundTasks())
    .get("/", ({ backgroundTasks }) => {
      backgroundTasks.addTask(noop);
      return "Hello, World!";
    })
    .listen({ port, hostname: "127.0.0.1" });
} else {
  new Elysia()
    .get("/", () => "Hello, World!")
    .listen({ port, hostname: "127.0.0.1" });
}
// A signal ends the process normally, so a sampling profiler (--cpu-prof) can write its profile.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
