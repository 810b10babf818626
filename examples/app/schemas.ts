/** TypeBox schemas shared by the routes: they validate requests and describe the API in OpenAPI. */
import { t } from "elysia";
import { Type } from "@sinclair/typebox";
// Elysia's declarations see TypeBox's CommonJS types; these must be the same ones.
import type { IntegerOptions, TInteger } from "@sinclair/typebox" with { "resolution-mode": "require" };

export const Email = t.String({
  format: "email",
  maxLength: 254,
  description: "An email address.",
  examples: ["ada@example.com"],
});

/**
 * A whole number in an answer. Elysia's `t.Integer` is "an integer or a string of one" (it coerces
 * query strings), which OpenAPI would show as `string | integer`; answers carry plain integers.
 */
export const Integer = (options: IntegerOptions = {}): TInteger => Type.Integer(options) as unknown as TInteger;

const REASONS: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

const errorProperties = {
  error: t.String({ description: "The HTTP reason phrase." }),
  message: t.String({ description: "What was wrong and what to do." }),
};

/** Every error is answered with this JSON object. */
export const ErrorResponse = t.Object(errorProperties, { description: "Every error is answered with this JSON object." });

/** The JSON error answer for `status`: `description` says when it happens, `message` is an example. */
export const Failure = (status: number, description: string, message: string, headers?: ResponseHeaders) =>
  t.Object(errorProperties, { description, examples: [{ error: REASONS[status] ?? "Error", message }], ...(headers && { headers }) });

/**
 * OpenAPI response headers. Given as a schema option, the docs plugin copies them onto the
 * response; validation ignores them.
 */
export type ResponseHeaders = Record<string, { description: string; schema: { type: "integer" | "string"; format?: string } }>;

/** A `{ message }` answer. */
export const MessageResponse = t.Object({ message: t.String({ examples: ["Notification sent in the background"] }) });

/** A `{ message }` answer, with an example of it. */
export const Message = (example: string, description = "Accepted; the work is done after the response is sent.") =>
  t.Object({ message: t.String() }, { description, examples: [{ message: example }] });

/** The 503 every route that adds tasks may answer. */
export const Busy = Failure(
  503,
  "The server cannot take more background work right now; try again in a few seconds.",
  "The server has too much background work queued; try again in a few seconds.",
  { "Retry-After": { description: "Seconds to wait before trying again (when the task queue is full).", schema: { type: "integer" } } },
);
