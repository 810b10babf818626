import type { TaskFunction } from "./types.ts";
import { taskDefinition } from "./defineTask.ts";

const kDefinition: unique symbol = Symbol.for("@background/tasks.definition");
const kKey: unique symbol = Symbol("@background/tasks.idempotencyKey");

/** The longest idempotency key accepted. */
const MAX_KEY_LENGTH = 256;

/**
 * Gives one `addTask` call its own idempotency key: the returned function
 * behaves like `task` (same name, settings and argument types) and carries
 * `key`, which wins over a key the task's `defineTask` would derive. A
 * durable runner makes it the job id, so adding the same work twice makes
 * one job; every attempt reads it as `this.idempotencyKey`.
 *
 * @param task the task to add, usually a `defineTask` task
 * @param key a non-empty string of at most 256 characters, e.g. an order id
 * @returns a function to pass to `addTask` in place of `task`
 *
 * @example
 * ```ts
 * import { defineTask, idempotencyKeyOf, withIdempotencyKey } from "@background/tasks";
 *
 * const chargeOrder = defineTask("charge-order", async (orderId: string, cents: number) => {});
 * const keyed = withIdempotencyKey(chargeOrder, "order-1234");
 * // getBackgroundTasks(request).addTask(keyed, "1234", 500);  // type-checked like chargeOrder
 * console.assert(idempotencyKeyOf(keyed, ["1234", 500]) === "order-1234");
 * ```
 */
export function withIdempotencyKey<F extends TaskFunction>(task: F, key: string): F {
  if (typeof task !== "function") {
    throw new TypeError(`withIdempotencyKey(task, key): task must be a function, got ${typeof task}.`);
  }
  _checkKey(`withIdempotencyKey(${task.name || "task"}, key)`, key);
  const keyed = function (this: unknown, ...args: unknown[]): unknown {
    return task.apply(this as never, args as never);
  };
  Object.defineProperty(keyed, "name", { value: task.name });
  // The same definition object: the task's own concurrency limit still counts it with the others.
  const definition = taskDefinition(task);
  if (definition !== undefined) Object.defineProperty(keyed, kDefinition, { value: definition });
  Object.defineProperty(keyed, kKey, { value: key });
  return keyed as unknown as F;
}

/**
 * The idempotency key a task added as `addTask(fn, ...args)` has: the one
 * from {@link withIdempotencyKey}, else the one its `defineTask`
 * `idempotencyKey` setting derives from `args`, else `undefined`.
 *
 * @param fn the function passed to `addTask`
 * @param args the arguments passed with it
 * @returns the key, or `undefined` when the task has none
 * @throws TypeError when the derived key is not a non-empty string of at most 256 characters
 *
 * @example
 * ```ts
 * import { defineTask, idempotencyKeyOf } from "@background/tasks";
 *
 * const welcome = defineTask("welcome", (email: string) => {}, { idempotencyKey: (email) => `welcome ${email}` });
 * console.assert(idempotencyKeyOf(welcome, ["ada@example.com"]) === "welcome ada@example.com");
 * ```
 */
export function idempotencyKeyOf(fn: TaskFunction, args: readonly unknown[]): string | undefined {
  const given = (fn as { [kKey]?: string })[kKey];
  if (given !== undefined) return given;
  const definition = taskDefinition(fn);
  const derive = definition?.settings.idempotencyKey;
  if (derive === undefined) return undefined;
  const key = derive(...args);
  _checkKey(`task "${definition!.name}": idempotencyKey(...args)`, key);
  return key;
}

function _checkKey(where: string, key: unknown): asserts key is string {
  if (typeof key === "string" && key.length > 0 && key.length <= MAX_KEY_LENGTH) return;
  throw new TypeError(
    `${where}: an idempotency key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ` +
      `${
        typeof key === "string" ? `${key.length} characters` : typeof key
      }. Derive it from what makes the work unique (an id, an address).`,
  );
}
