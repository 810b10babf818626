/**
 * Every error leaves the server as JSON `{ error, message }`, the message
 * saying what was wrong and what to do.
 */
import { Elysia } from "elysia";
import { TaskQueueFullError } from "@background/tasks";

/** An error with an HTTP status, thrown by routes and helpers. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const REASONS = new Map<number, string>([
  [400, "Bad Request"],
  [404, "Not Found"],
  [413, "Payload Too Large"],
  [415, "Unsupported Media Type"],
  [422, "Unprocessable Entity"],
  [500, "Internal Server Error"],
  [503, "Service Unavailable"],
  [507, "Insufficient Storage"],
]);

// File-system failures of the server's own data directory: the client can only retry later.
const STORAGE_FULL = new Set(["ENOSPC", "EDQUOT"]);
const STORAGE_REFUSED = new Set(["EACCES", "EPERM", "EROFS", "ENOENT", "ENOTDIR"]);
// A full queue empties within seconds (the default timeout of a task is one minute, most take milliseconds).
const QUEUE_FULL_RETRY_AFTER_S = 2;

/** The JSON body of an error response. */
export function errorBody(status: number, message: string): { error: string; message: string } {
  return { error: REASONS.get(status) ?? "Error", message };
}

function validationMessage(error: unknown): string {
  // A schema's own `error` text (e.g. the outbox's `limit`) says it better than the generic summary.
  const custom = (error as { customError?: unknown }).customError;
  if (typeof custom === "string") return custom;
  const all = (error as { all?: { path?: string; summary?: string; message?: string }[] }).all ?? [];
  const first = all[0];
  if (first === undefined) return "The request is not valid.";
  const where = first.path ? first.path.replace(/^\//, "").replaceAll("/", ".") : "value";
  return `Invalid ${(error as { type?: string }).type ?? "request"} ${where}: ${first.summary ?? first.message}.`;
}

/** Maps thrown errors to JSON answers; unknown errors are logged and answered with 500. */
export const jsonErrors = new Elysia({ name: "example/json-errors" }).onError({ as: "global" }, (ctx) => {
  const { code, error, request } = ctx;
  const reply = (status: number, message: string, headers?: HeadersInit): Response =>
    Response.json(errorBody(status, message), { status, headers });
  // Elysia wraps errors thrown by parsers in a ParseError; the HttpError is its cause.
  const cause = (error as { cause?: unknown }).cause;
  if (error instanceof HttpError || cause instanceof HttpError) {
    const known = error instanceof HttpError ? error : cause as HttpError;
    return reply(known.status, known.message);
  }
  if (error instanceof TaskQueueFullError) {
    return reply(503, "The server has too much background work queued; try again in a few seconds.", {
      "retry-after": String(QUEUE_FULL_RETRY_AFTER_S),
    });
  }
  // Elysia 1.4 throws a TypeError while it describes a hostile value (an object whose toString is
  // not a function) for a validation error: the request was invalid, not the server.
  if (code === "UNKNOWN" && error instanceof TypeError && /\bnew ValidationError\b/.test(error.stack ?? "")) {
    return reply(422, "The request is not valid: a value has the wrong type.");
  }
  switch (code) {
    case "VALIDATION":
      return reply(422, validationMessage(error));
    case "NOT_FOUND":
      return reply(404, `No route for ${request.method} ${new URL(request.url).pathname}. See /swagger for the API.`);
    case "PARSE":
      return reply(400, "The request body could not be parsed: send JSON with Content-Type: application/json.");
  }
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return reply(status, (error as Error).message || "The request was not accepted.");
  }
  console.error(JSON.stringify({ level: "error", msg: "request failed", url: request.url, error: String(error) }));
  const fsCode = typeof (error as { syscall?: unknown }).syscall === "string" ? (error as { code?: string }).code : undefined;
  if (fsCode !== undefined && STORAGE_FULL.has(fsCode)) {
    return reply(507, "The server's disk is full, so the upload could not be stored; try again later.");
  }
  if (fsCode !== undefined && STORAGE_REFUSED.has(fsCode)) {
    return reply(503, `The server cannot write to its data directory right now (${fsCode}); try again later.`);
  }
  return reply(500, "Something went wrong on the server; the error was logged.");
});
