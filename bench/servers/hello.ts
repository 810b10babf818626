// Section "cost": the same in-memory response, bare or wrapped with one no-op background task.
// MODE=bare | wrapped. Run with bun, deno, or node --import tsx.
import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
import { serve } from "./serve.ts";

function noop(): void {}

function bare(_request: Request): Response {
  return new Response("Hello, World!");
}

const wrapped = withBackgroundTasks((request: Request): Response => {
  getBackgroundTasks(request).addTask(noop);
  return new Response("Hello, World!");
});

const mode = (globalThis as any).process?.env?.MODE ?? (globalThis as any).Deno?.env.get("MODE");
await serve(mode === "wrapped" ? wrapped : bare);
