// Section "cost", Elysia part: a plain route vs the same route with our plugin adding one no-op task.
// MODE=plain | plugin | after | floor. Bun only.
//   after: Elysia's own onAfterResponse doing the no-op (the peer);
//   floor: onAfterResponse adding the no-op to a TaskRunner (Elysia's signal plus one runner add).
import { Elysia } from "elysia";
import { TaskRunner } from "@background/tasks";
import { backgroundTasks } from "@background/tasks/elysia";

function noop(): void {}

const port = Number(process.env.PORT ?? 3000);
const listen = { port, hostname: "127.0.0.1" };
const runner = new TaskRunner();
switch (process.env.MODE) {
  case "plugin":
    new Elysia()
      .use(backgroundTasks())
      .get("/", ({ backgroundTasks }) => {
        backgroundTasks.addTask(noop);
        return "Hello, World!";
      })
      .listen(listen);
    break;
  case "after":
    new Elysia().onAfterResponse(noop).get("/", () => "Hello, World!").listen(listen);
    break;
  case "floor":
    new Elysia().onAfterResponse(() => void runner.addTask(noop)).get("/", () => "Hello, World!").listen(listen);
    break;
  default:
    new Elysia()
      .get("/", () => "Hello, World!")
      .listen(listen);
}
// A signal ends the process normally, so a sampling profiler (--cpu-prof) can write its profile.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(0));
