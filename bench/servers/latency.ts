// Section "latency": one wrapped handler, three routes that answer the same in-memory body:
//   /none   no task        /sleep  a task that sleeps 200 ms        /cpu  a task that burns 5 ms of CPU
//   /sleep-in-handler  no task; the handler itself starts the same 200 ms sleep (the reference)
// Run with bun, deno, or node --import tsx; PORT from the environment.
import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
import { serve } from "./serve.ts";

async function sleep200ms(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
}

function burn5ms(): void {
  const end = performance.now() + 5;
  while (performance.now() < end) {
    // busy on purpose: a CPU-bound task shares the event loop with the responses
  }
}

await serve(withBackgroundTasks((request: Request): Response => {
  const path = request.url.slice(request.url.indexOf("/", 8));
  if (path === "/sleep") getBackgroundTasks(request).addTask(sleep200ms);
  else if (path === "/cpu") getBackgroundTasks(request).addTask(burn5ms);
  else if (path === "/sleep-in-handler") void sleep200ms();
  return new Response("Hello, World!");
}));
