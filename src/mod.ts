/**
 * FastAPI-style background tasks for every Fetch-API runtime: a handler adds
 * work with `getBackgroundTasks(request).addTask(fn, ...args)`, and it runs
 * after the response body has been handed over, on Bun, Deno, Node and
 * Workers, with limits, timeouts, retries, events and a clean `drain()`.
 *
 * @example
 * ```ts
 * import { getBackgroundTasks, withBackgroundTasks } from "@background/tasks";
 *
 * function writeLog(message: string): void { console.log(message); }
 *
 * export default {
 *   fetch: withBackgroundTasks((request: Request) => {
 *     getBackgroundTasks(request).addTask(writeLog, `served ${request.url}`);
 *     return Response.json({ message: "Notification sent in the background" });
 *   }),
 * };
 * ```
 *
 * @module
 */
export { BackgroundTasks, type BackgroundTasksInit, defaultTaskRunner } from "./BackgroundTasks.ts";
export { type TaskEventInfo, TaskRunner, type TaskRunnerEvents } from "./TaskRunner.ts";
export { withBackgroundTasks, type WithBackgroundTasksOptions } from "./withBackgroundTasks.ts";
export { getBackgroundTasks } from "./getBackgroundTasks.ts";
export { runAfterResponse } from "./runAfterResponse.ts";
export { defineTask, type TaskDefinition, taskDefinition } from "./defineTask.ts";
export { idempotencyKeyOf, withIdempotencyKey } from "./idempotencyKey.ts";
export { DrainTimeoutError, TaskQueueFullError, TaskTimeoutError } from "./errors.ts";
export type * from "./types.ts";
