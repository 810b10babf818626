/**
 * Request bodies read with a byte cap, whatever their framing: a body sent
 * chunked (no Content-Length) is counted as it arrives, and reading stops at
 * the limit with a 413. Nothing past the limit is ever held in memory.
 */
import { HttpError } from "../errors.ts";

/** Reads `body` whole, refusing it with 413 once it passes `maxBytes`; the rest is never read. */
export async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number, what: string): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        void reader.cancel().catch(() => {});
        throw new HttpError(413, `${what} is larger than ${maxBytes} bytes, the most this endpoint accepts.`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

/** Whether `contentType` is `application/json`, parameters (such as charset) aside. */
function isJson(contentType: string | null): boolean {
  return contentType !== null && contentType.split(";", 1)[0]!.trim().toLowerCase() === "application/json";
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * An Elysia `parse` hook for JSON bodies of at most `maxBytes`: 415 for any
 * other Content-Type (a cross-site HTML form can only send form or text
 * types), 413 past the limit (declared or counted), 400 for bytes that are
 * not JSON.
 */
export function jsonBody(maxBytes: number): (context: { request: Request }) => Promise<unknown> {
  return async ({ request }) => {
    const type = request.headers.get("content-type");
    if (!isJson(type)) {
      throw new HttpError(
        415,
        `Send the body as JSON with Content-Type: application/json; got ${type === null ? "no Content-Type" : JSON.stringify(type)}.`,
      );
    }
    if (Number(request.headers.get("content-length")) > maxBytes) {
      throw new HttpError(413, `The JSON body is larger than ${maxBytes} bytes, the most this endpoint accepts.`);
    }
    const bytes = await readCapped(request.body, maxBytes, "The JSON body");
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new HttpError(400, "The JSON body is not valid UTF-8 text.");
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, `The body is not valid JSON (${(error as Error).message}); send a JSON object.`);
    }
  };
}
