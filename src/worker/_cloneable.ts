/**
 * Checks at `addTask` that a task's arguments reach a worker thread as they
 * were: structured clone carries them, but drops functions (it throws),
 * symbols, and the prototype (so the methods) of class instances.
 *
 * @module
 */

const typedArrayPrototype: object = Object.getPrototypeOf(Uint8Array.prototype);

/** The prototypes whose instances structured clone rebuilds as they were. */
const kept: ReadonlySet<object | null> = new Set<object | null>([
  null,
  Object.prototype,
  Array.prototype,
  Date.prototype,
  RegExp.prototype,
  Map.prototype,
  Set.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  Error.prototype,
  EvalError.prototype,
  RangeError.prototype,
  ReferenceError.prototype,
  SyntaxError.prototype,
  TypeError.prototype,
  URIError.prototype,
  ...(typeof SharedArrayBuffer === "function" ? [SharedArrayBuffer.prototype] : []),
]);

const hint = "Pass data a thread can receive: strings, numbers, booleans, null, undefined, bigints, plain objects, arrays, " +
  "Date, RegExp, Map, Set, ArrayBuffer or typed arrays; open files, connections and clients inside the task from such data.";

/**
 * Throws a TypeError naming the argument path (`argument 1.user.avatar`)
 * when a value would not arrive in the thread unchanged.
 *
 * @param name the task's name, for the message
 * @param args the task's arguments
 */
export function _checkCloneableArguments(name: string, args: readonly unknown[]): void {
  const seen = new Set<object>();
  for (let i = 0; i < args.length; i++) check(name, args[i], `argument ${i + 1}`, seen);
}

function check(name: string, value: unknown, path: string, seen: Set<object>): void {
  const type = typeof value;
  if (type !== "object" && type !== "function" && type !== "symbol") return; // string, number, boolean, bigint, undefined
  const refuse = (what: string, instead: string = hint): never => {
    throw new TypeError(`WorkerTaskRunner: task "${name}": ${path} is ${what}, which cannot be sent to a worker thread. ${instead}`);
  };
  if (type === "function") {
    refuse(
      `a function (${(value as { name?: string }).name || "anonymous"})`,
      "A function cannot travel to another thread: import what the task needs in the task module, and pass data. " + hint,
    );
  }
  if (type === "symbol") refuse("a symbol", "Pass a string instead (e.g. symbol.description).");
  if (value === null || seen.has(value as object)) return; // cycles survive structured clone
  const object = value as object;
  seen.add(object);
  const proto: object | null = Object.getPrototypeOf(object);
  if (ArrayBuffer.isView(object)) {
    if (proto !== DataView.prototype && Object.getPrototypeOf(proto) !== typedArrayPrototype) {
      refuse(`a ${object.constructor?.name ?? "typed array"} (a subclass)`, "Pass a plain typed array such as a Uint8Array.");
    }
    return;
  }
  if (!kept.has(proto)) {
    const what = object.constructor?.name;
    if (typeof Promise === "function" && object instanceof Promise) refuse("a Promise", "Await it first and pass its result.");
    if (object instanceof WeakMap || object instanceof WeakSet) refuse(`a ${what}`, "Pass a Map or Set, or plain data.");
    refuse(
      what ? `a ${what} instance` : "an object with a custom prototype",
      `It would arrive as a plain object without its methods. Pass its data (e.g. a plain object or string) and rebuild the ${
        what ?? "object"
      } inside the task.`,
    );
  }
  if (proto === Map.prototype) {
    let i = 0;
    for (const [key, item] of object as Map<unknown, unknown>) {
      check(name, key, `${path} (a Map) key #${i + 1}`, seen);
      check(name, item, `${path}.get(${typeof key === "string" ? JSON.stringify(key) : `key #${i + 1}`})`, seen);
      i++;
    }
    return;
  }
  if (proto === Set.prototype) {
    let i = 0;
    for (const item of object as Set<unknown>) check(name, item, `${path} (a Set) item #${++i}`, seen);
    return;
  }
  if (proto === Array.prototype) {
    const array = object as unknown[];
    for (let i = 0; i < array.length; i++) check(name, array[i], `${path}[${i}]`, seen);
  }
  if (Object.getOwnPropertySymbols(object).length > 0) {
    refuse("an object with symbol keys", "Structured clone drops symbol keys; use string keys.");
  }
  if (proto === Array.prototype) return;
  for (const key of Object.keys(object)) {
    check(
      name,
      (object as Record<string, unknown>)[key],
      /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`,
      seen,
    );
  }
}
