// Section "cost", Elysia part: a plain route vs the same route with our plugin adding one no-op task.
// MODE=plain | plugin | untouched | after | floor | sent | signal. Bun only.
//   untouched: the plugin, but the route adds no task (the plugin's cost alone);
//   after: Elysia's own onAfterResponse doing the no-op (the peer; it runs once the handler has
//          returned, not once the body has been written);
//   floor: onAfterResponse adding the no-op to a TaskRunner (Elysia's signal plus one runner add);
//   sent:  onAfterResponse hands the request to Bun's signal (server.requestIP turns null once the
//          response is written, checked for all requests of a macrotask by one timer), which adds
//          the no-op to a TaskRunner;
//   signal: the same without onAfterResponse: the handler (through Elysia's wrap, which costs
//          nothing per request) hands the request to Bun's signal, which adds the no-op: only the
//          platform's signal and one runner add, the least a plugin that waits for the body can cost.
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
  case "untouched":
    new Elysia()
      .use(backgroundTasks())
      .get("/", () => "Hello, World!")
      .listen(listen);
    break;
  case "sent": {
    let pending: Request[] = [];
    const check = (): void => {
      const batch = pending;
      pending = [];
      for (const request of batch) if (app.server!.requestIP(request) == null) runner.addTask(noop);
    };
    const app = new Elysia()
      .onAfterResponse(({ request }) => {
        if (pending.push(request) === 1) setTimeout(check, 0);
      })
      .get("/", () => "Hello, World!")
      .listen(listen);
    break;
  }
  case "signal": {
    let pending: Request[] = [];
    const check = (): void => {
      const batch = pending;
      pending = [];
      for (const request of batch) if (app.server!.requestIP(request) == null) runner.addTask(noop);
    };
    const app = new Elysia()
      .wrap((handle) => (request: Request) => {
        if (pending.push(request) === 1) setTimeout(check, 0);
        return handle(request);
      })
      .get("/", () => "Hello, World!")
      .listen(listen);
    break;
  }
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
