/**
 * Streams one file of a multipart/form-data request to disk: the body is read
 * chunk by chunk and never held whole in memory (`request.formData()` would
 * buffer it). The multipart format is parsed by multipasta, which hands the
 * file over in the pieces it arrives in; each piece is written before the next
 * is read, so memory stays at one chunk whatever the upload's size. Sizes are
 * checked while reading, whatever the framing; a partial file is removed.
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import * as Multipart from "multipasta";
import { HttpError } from "../errors.ts";

export interface ReceivedFile {
  /** The client's file name, reduced to a harmless base name; never used as a path. */
  readonly filename: string;
  /** The part's declared Content-Type. */
  readonly contentType: string;
  readonly bytes: number;
}

export interface ReceiveOptions {
  /** The form field that holds the file. */
  readonly field: string;
  /** Where to store it (chosen by the server). */
  readonly path: string;
  readonly maxBytes: number;
  /** Called with the part's headers before its content is read; throw to refuse the file. */
  readonly accept?: (file: { filename: string; contentType: string }) => void;
  /** Called with the first bytes of the file (up to 4 KiB); throw to refuse them. */
  readonly inspect?: (head: Buffer) => void;
}

const MAX_HEADER_BYTES = 16 * 1024; // multipasta's own limit for one part's headers
const MAX_OTHER_FIELD_BYTES = 64 * 1024;
const MAX_PARTS = 64;
const HEAD_BYTES = 4096;

/** What the parser reported while one chunk was written, done in order afterwards. */
type Step =
  | { readonly kind: "open"; readonly filename: string; readonly contentType: string }
  | { readonly kind: "data"; readonly bytes: Uint8Array }
  | { readonly kind: "close" };

/** Reads `request`'s multipart body and stores the file of `options.field` at `options.path`. */
export async function receiveFile(request: Request, options: ReceiveOptions): Promise<ReceivedFile> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;.*?boundary=(?:"[^"]+"|[^\s;]+)/i.test(type)) {
    throw new HttpError(
      415,
      `Send the file as multipart/form-data in the field "${options.field}", got Content-Type ${JSON.stringify(type || "(none)")}.`,
    );
  }
  // The whole body may hold the file, its part headers and the other fields: past that, whatever the framing, stop.
  const maxBodyBytes = options.maxBytes + MAX_HEADER_BYTES * MAX_PARTS + MAX_OTHER_FIELD_BYTES;
  const tooLarge = (): HttpError => new HttpError(413, `The upload is larger than the limit of ${options.maxBytes} bytes per file.`);
  if (Number(request.headers.get("content-length")) > maxBodyBytes) throw tooLarge();
  if (request.body === null) throw new HttpError(400, `The request has no body; send a file in the field "${options.field}".`);

  const steps: Step[] = [];
  let failure: HttpError | undefined;
  let done = false;
  let found = false;
  let otherBytes = 0;
  const countOther = (bytes: number): void => {
    otherBytes += bytes;
    if (otherBytes > MAX_OTHER_FIELD_BYTES && failure === undefined) {
      failure = new HttpError(413, `Form fields other than "${options.field}" may hold ${MAX_OTHER_FIELD_BYTES} bytes in all.`);
    }
  };
  const parser = Multipart.make({
    headers: { "content-type": type },
    isFile: (info) => info.filename !== undefined,
    maxParts: MAX_PARTS,
    maxTotalSize: maxBodyBytes,
    maxFieldSize: MAX_OTHER_FIELD_BYTES,
    onField: (_info, value) => countOther(value.byteLength),
    onFile: (info) => {
      if (info.name !== options.field || found) return (chunk) => void (chunk !== null && countOther(chunk.byteLength));
      found = true;
      steps.push({ kind: "open", filename: safeBaseName(info.filename ?? ""), contentType: partType(info.headers["content-type"]) });
      return (chunk) => void steps.push(chunk === null ? { kind: "close" } : { kind: "data", bytes: chunk });
    },
    onError: (error) => void (failure ??= multipartError(error, options, tooLarge)),
    onDone: () => void (done = true),
  });

  const partial = `${options.path}.part`;
  let handle: FileHandle | undefined;
  let received: ReceivedFile | undefined;
  let part = { filename: "", contentType: "" };
  let fileBytes = 0;
  let head: Uint8Array[] | undefined = [];
  let headBytes = 0;
  const inspectHead = (): void => {
    if (head === undefined) return;
    const first = Buffer.concat(head);
    head = undefined;
    options.inspect?.(first);
  };
  const run = async (step: Step): Promise<void> => {
    switch (step.kind) {
      case "open":
        part = { filename: step.filename, contentType: step.contentType };
        options.accept?.(part);
        handle = await open(partial, "w");
        return;
      case "data":
        if (step.bytes.byteLength === 0) return;
        fileBytes += step.bytes.byteLength;
        if (fileBytes > options.maxBytes) throw new HttpError(413, `The file is larger than the limit of ${options.maxBytes} bytes.`);
        if (head !== undefined) {
          head.push(step.bytes.subarray(0, HEAD_BYTES - headBytes));
          headBytes += Math.min(step.bytes.byteLength, HEAD_BYTES - headBytes);
          if (headBytes >= HEAD_BYTES) inspectHead();
        }
        await handle!.write(step.bytes);
        return;
      case "close":
        inspectHead();
        await handle!.close();
        handle = undefined;
        received = { ...part, bytes: fileBytes };
        return;
    }
  };

  const reader = request.body.getReader();
  try {
    while (!done) {
      const { done: ended, value } = await reader.read();
      if (ended) {
        parser.end();
        // Once the file's part was closed by a boundary the file is whole, even if the form's last "--" went missing.
        if (!done && received === undefined && !steps.some((step) => step.kind === "close")) {
          failure ??= new HttpError(400, "The multipart body ended before its closing boundary; the upload was cut off or malformed.");
        }
      } else {
        try {
          parser.write(value);
        } catch {
          failure ??= new HttpError(400, "The multipart body is malformed: a part's headers could not be read.");
        }
      }
      for (const step of steps.splice(0)) await run(step);
      if (failure !== undefined) throw failure;
      if (ended) break;
    }
    if (received === undefined) throw new HttpError(400, `No file in the form field "${options.field}".`);
    await rename(partial, options.path);
    return received;
  } catch (error) {
    void reader.cancel().catch(() => {});
    await handle?.close().catch(() => {});
    await rm(partial, { force: true });
    throw error;
  } finally {
    reader.releaseLock();
  }
}

function multipartError(error: Multipart.MultipartError, options: ReceiveOptions, tooLarge: () => HttpError): HttpError {
  switch (error._tag) {
    case "ReachedLimit":
      if (error.limit === "MaxParts") {
        return new HttpError(413, `The form has more than ${MAX_PARTS} parts; send the file in the field "${options.field}" alone.`);
      }
      if (error.limit === "MaxFieldSize") {
        return new HttpError(413, `Form fields other than "${options.field}" may hold ${MAX_OTHER_FIELD_BYTES} bytes in all.`);
      }
      return tooLarge();
    case "InvalidBoundary":
      return new HttpError(415, `Send the file as multipart/form-data with a boundary parameter in the field "${options.field}".`);
    case "BadHeaders":
      return new HttpError(400, `The multipart body is malformed: a part's headers could not be read (${error.error.reason}).`);
    case "InvalidDisposition":
      return new HttpError(400, "The multipart body is malformed: a part's Content-Disposition has no name.");
    case "EndNotReached":
      return new HttpError(400, "The multipart body ended before its closing boundary; the upload was cut off or malformed.");
  }
}

function partType(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] ?? "" : value ?? "").trim().toLowerCase();
}

/** The last path segment without control characters: `../../etc/passwd` becomes `passwd`. */
export function safeBaseName(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? "";
  // deno-lint-ignore no-control-regex -- control characters are exactly what is removed
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, "").replace(/^\.+/, "").trim().slice(0, 200);
  return clean === "" ? "upload.csv" : clean;
}
