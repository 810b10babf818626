// @ts-check
// The entry of a WorkerTaskRunner thread: it lowers its own CPU priority, imports the tasks module,
// and runs the tasks the runner sends, each with a small task context of its own as `this`.
//
// Plain JavaScript with no imports from the package, so a thread starts the same way from src/ and
// dist/ on Node (where a TypeScript loader registered in the main thread does not reach worker
// threads), Bun and Deno. src/worker/_protocol.ts describes the messages; keep the two in step.
import { parentPort, workerData } from "node:worker_threads";
import { setPriority } from "node:os";

const RUN = 0;
const ABORT = 1;
const READY = -1;
const BROKEN = -2;
/** What defineTask attaches to a function (a registered symbol, so any copy of the package reads it). */
const kDefinition = Symbol.for("@background/tasks.definition");

const port = /** @type {import("node:worker_threads").MessagePort} */ (parentPort);
const { module, niceness } = /** @type {{ module: string, niceness: number }} */ (workerData);

if (niceness !== 0) {
  try {
    setPriority(niceness);
  } catch (error) {
    console.error(`[background-tasks/worker] could not set this thread's niceness to ${niceness}; it runs at normal priority:`, error);
  }
}

/** @type {Map<string, Function>} */
const tasks = new Map();
/** @type {unknown[][][] | undefined} messages that came before the module was loaded */
let held = [];
/** @type {Map<number, AbortController>} */
const controllers = new Map();
/** @type {unknown[][]} */
let outbox = [];
/**
 * `@opentelemetry/api`, imported when the first task with a trace context arrives (never before, so a
 * thread that traces nothing loads nothing); `null` when it cannot be imported here.
 * @type {typeof import("@opentelemetry/api") | null | undefined}
 */
let otel;

port.on("message", (/** @type {unknown[][]} */ message) => {
  if (held !== undefined) held.push(message);
  else receive(message);
});

// A WorkerTaskRunner made by the tasks module itself (as it is imported here) starts no threads of its own.
/** @type {any} */ (globalThis)[Symbol.for("@background/tasks.workerThread")] = true;

import(module).then(
  (/** @type {Record<string, unknown>} */ exports) => {
    for (const value of Object.values(exports)) {
      const definition = typeof value === "function" ? /** @type {any} */ (value)[kDefinition] : undefined;
      if (definition !== undefined) tasks.set(definition.name, /** @type {Function} */ (value));
    }
    port.postMessage([[READY, [...tasks.keys()]]]);
    release();
  },
  (error) => {
    // The module cannot load here, so no task can run: the runner refuses further tasks with this error.
    port.postMessage([[BROKEN, toSendable(error)]]);
  },
);

/** @param {unknown[][]} message */
function receive(message) {
  for (let i = 0; i < message.length; i++) {
    const entry = message[i];
    if (entry[0] === RUN) {
      const trace = /** @type {Record<string, string> | undefined} */ (entry[7]);
      if (trace !== undefined && otel === undefined) {
        // The first traced task: load the OpenTelemetry API, holding this and later entries meanwhile.
        held = [message.slice(i)];
        import("@opentelemetry/api").then((api) => void (otel = api), () => void (otel = null)).then(release);
        return;
      }
      run(
        /** @type {number} */ (entry[1]),
        /** @type {string} */ (entry[2]),
        /** @type {unknown[]} */ (entry[3]),
        /** @type {number} */ (entry[4]),
        /** @type {{ method: string, url: string } | undefined} */ (entry[5]),
        /** @type {boolean} */ (entry[6]),
        trace,
      );
    } else if (entry[0] === ABORT) {
      controllers.get(/** @type {number} */ (entry[1]))?.abort(fromSendable(entry[2]));
    }
  }
}

/** Receives the messages held while the tasks module (or the OpenTelemetry API) was loading. */
function release() {
  const waiting = /** @type {unknown[][][]} */ (held);
  held = undefined;
  for (let i = 0; i < waiting.length; i++) {
    if (held !== undefined) { // held again, for the OpenTelemetry API
      /** @type {unknown[][][]} */ (held).push(...waiting.slice(i)); // a cast: the checker thinks `held` is still undefined here
      return;
    }
    receive(waiting[i]);
  }
}

/**
 * @param {number} id
 * @param {string} name
 * @param {unknown[]} args
 * @param {number} attempt
 * @param {{ method: string, url: string } | undefined} request
 * @param {boolean} responseAborted
 * @param {Record<string, string> | undefined} trace the attempt's trace context, as propagation fields
 */
function run(id, name, args, attempt, request, responseAborted, trace) {
  const fn = tasks.get(name);
  if (fn === undefined) {
    finish(id, true, new Error(`${module} exports no task named "${name}"; export the defineTask("${name}", ...) function from it.`));
    return;
  }
  const controller = new AbortController();
  controllers.set(id, controller);
  // The task's own context: plain data and its signal, nothing of the runner's.
  const context = { name, attempt, signal: controller.signal, request, responseAborted };
  let result;
  try {
    result = trace === undefined || !otel ? fn.apply(context, args) : inTrace(trace, () => fn.apply(context, args));
  } catch (error) {
    finish(id, true, error);
    return;
  }
  if (result !== null && typeof result === "object" && typeof result.then === "function") {
    result.then(() => finish(id, false, undefined), (/** @type {unknown} */ error) => finish(id, true, error));
  } else {
    finish(id, false, undefined);
  }
}

/**
 * Calls `call` inside the trace context the runner sent (the attempt's span, read by the propagator
 * the tasks module registered here), so the task's own spans are children of the attempt's span.
 * @param {Record<string, string>} fields
 * @param {() => unknown} call
 */
function inTrace(fields, call) {
  const { context, propagation } = /** @type {typeof import("@opentelemetry/api")} */ (otel);
  return context.with(propagation.extract(context.active(), fields), call);
}

/**
 * Reports an attempt's end; the reports of one turn travel as one message.
 * @param {number} id
 * @param {boolean} failed
 * @param {unknown} error
 */
function finish(id, failed, error) {
  controllers.delete(id);
  if (outbox.length === 0) queueMicrotask(flush);
  outbox.push(failed ? [id, toSendable(error)] : [id]);
}

function flush() {
  const message = outbox;
  outbox = [];
  port.postMessage(message);
}

/**
 * An error as it crosses threads: its name, message, stack and code survive.
 * @param {unknown} error
 */
function toSendable(error) {
  if (error !== null && typeof error === "object" && "message" in error) {
    const { name, message, stack, code } = /** @type {Error & { code?: unknown }} */ (error);
    /** @type {Record<string, unknown>} */
    const sent = { name: String(name ?? "Error"), message: String(message), stack: typeof stack === "string" ? stack : undefined };
    if (typeof code === "string" || typeof code === "number") sent.code = code;
    return sent;
  }
  if (
    error === null || (typeof error !== "object" && typeof error !== "function" && typeof error !== "symbol" && typeof error !== "bigint")
  ) return error;
  return String(error);
}

/** @param {unknown} sent */
function fromSendable(sent) {
  if (sent === null || typeof sent !== "object") return sent;
  const { name, message, stack, code } = /** @type {Record<string, any>} */ (sent);
  const error = new Error(message);
  if (name !== "Error") Object.defineProperty(error, "name", { value: name, configurable: true, writable: true });
  if (stack !== undefined) error.stack = stack;
  if (code !== undefined) /** @type {any} */ (error).code = code;
  return error;
}
