/**
 * Streams one file of a multipart/form-data request to disk: the body is read
 * chunk by chunk and never held whole in memory (`request.formData()` would
 * buffer it). Sizes are checked while reading; a partial file is removed.
 */
import { type FileHandle, open, rename, rm } from "node:fs/promises";
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

const MAX_HEADER_BYTES = 16 * 1024;
const MAX_OTHER_FIELD_BYTES = 64 * 1024;
const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

/** Reads `request`'s multipart body and stores the file of `options.field` at `options.path`. */
export async function receiveFile(request: Request, options: ReceiveOptions): Promise<ReceivedFile> {
  const type = request.headers.get("content-type") ?? "";
  const boundary = /^multipart\/form-data\s*;.*?boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(type);
  if (!boundary) {
    throw new HttpError(
      415,
      `Send the file as multipart/form-data in the field "${options.field}", got Content-Type ${JSON.stringify(type || "(none)")}.`,
    );
  }
  // The whole body may hold the file, its part headers and the other fields: past that, whatever the framing, stop.
  const maxBodyBytes = options.maxBytes + MAX_HEADER_BYTES + MAX_OTHER_FIELD_BYTES;
  const declared = Number(request.headers.get("content-length"));
  if (declared > maxBodyBytes) {
    throw new HttpError(413, `The upload is ${declared} bytes; the limit is ${options.maxBytes} bytes per file.`);
  }
  if (request.body === null) throw new HttpError(400, `The request has no body; send a file in the field "${options.field}".`);

  const delimiter = Buffer.from(`\r\n--${boundary[1] ?? boundary[2]}`);
  const partial = `${options.path}.part`;
  let handle: FileHandle | undefined;
  let received: ReceivedFile | undefined;
  let bodyBytes = 0;
  let fileBytes = 0;
  let otherBytes = 0;
  let head: Buffer[] | undefined = [];
  let headBytes = 0;
  // The body starts with "--boundary"; a leading CRLF makes it look like every later delimiter.
  let buffer: Buffer = Buffer.from(CRLF);
  let state: "preamble" | "boundary" | "headers" | "file" | "skip" | "done" = "preamble";
  let part = { filename: "", contentType: "" };

  const write = async (bytes: Buffer): Promise<void> => {
    if (bytes.length === 0) return;
    if (state === "skip") {
      otherBytes += bytes.length;
      if (otherBytes > MAX_OTHER_FIELD_BYTES) {
        throw new HttpError(413, `Form fields other than "${options.field}" may hold ${MAX_OTHER_FIELD_BYTES} bytes in all.`);
      }
      return;
    }
    fileBytes += bytes.length;
    if (fileBytes > options.maxBytes) throw new HttpError(413, `The file is larger than the limit of ${options.maxBytes} bytes.`);
    if (head !== undefined) {
      head.push(bytes.subarray(0, 4096 - headBytes));
      headBytes += Math.min(bytes.length, 4096 - headBytes);
      if (headBytes >= 4096) inspectHead();
    }
    await handle!.write(bytes);
  };
  const inspectHead = (): void => {
    if (head === undefined) return;
    const first = Buffer.concat(head);
    head = undefined;
    options.inspect?.(first);
  };

  try {
    for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
      bodyBytes += chunk.byteLength;
      if (bodyBytes > maxBodyBytes) throw new HttpError(413, `The upload is larger than the limit of ${options.maxBytes} bytes per file.`);
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      buffer = buffer.length === 0 ? bytes : Buffer.concat([buffer, bytes]);
      parse: while (true) {
        switch (state) {
          case "preamble":
          case "file":
          case "skip": {
            const at = buffer.indexOf(delimiter);
            if (at === -1) {
              // Keep what could be the start of a delimiter split across chunks.
              const safe = buffer.length - (delimiter.length - 1);
              if (safe > 0) {
                if (state !== "preamble") await write(buffer.subarray(0, safe));
                buffer = buffer.subarray(safe);
              }
              break parse;
            }
            if (state !== "preamble") await write(buffer.subarray(0, at));
            if (state === "file") {
              inspectHead();
              await handle!.close();
              handle = undefined;
              received = { ...part, bytes: fileBytes };
            }
            buffer = buffer.subarray(at + delimiter.length);
            state = "boundary";
            continue;
          }
          case "boundary": {
            if (buffer.length < 2) break parse;
            if (buffer[0] === 0x2d && buffer[1] === 0x2d) {
              state = "done";
              break parse;
            }
            if (!buffer.subarray(0, 2).equals(CRLF)) {
              throw new HttpError(400, "The multipart body is malformed: a boundary is not followed by a line break.");
            }
            buffer = buffer.subarray(2);
            state = "headers";
            continue;
          }
          case "headers": {
            const at = buffer.indexOf(HEADER_END);
            if (at === -1) {
              if (buffer.length > MAX_HEADER_BYTES) throw new HttpError(400, "The multipart body is malformed: part headers are too long.");
              break parse;
            }
            const headers = buffer.subarray(0, at).toString("utf8");
            buffer = buffer.subarray(at + HEADER_END.length);
            const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? "";
            const name = parameter(disposition, "name");
            const filename = parameter(disposition, "filename");
            if (name === options.field && filename !== undefined && received === undefined && handle === undefined) {
              part = {
                filename: safeBaseName(filename),
                contentType: (/^content-type:(.*)$/im.exec(headers)?.[1] ?? "").trim().toLowerCase(),
              };
              options.accept?.(part);
              handle = await open(partial, "w");
              state = "file";
            } else {
              state = "skip";
            }
            continue;
          }
        }
      }
      if (state === "done") break;
    }
    if (state !== "done") {
      throw new HttpError(400, "The multipart body ended before its closing boundary; the upload was cut off or malformed.");
    }
    if (received === undefined) throw new HttpError(400, `No file in the form field "${options.field}".`);
    await rename(partial, options.path);
    return received;
  } catch (error) {
    await handle?.close().catch(() => {});
    await rm(partial, { force: true });
    throw error;
  }
}

/** A Content-Disposition parameter, quoted or not; `filename*` (RFC 5987) wins over `filename`. */
function parameter(disposition: string, key: string): string | undefined {
  const extended = new RegExp(`;\\s*${key}\\*\\s*=\\s*[^']*'[^']*'([^;\\s]+)`, "i").exec(disposition);
  if (extended) {
    try {
      return decodeURIComponent(extended[1]!);
    } catch {
      // fall through to the plain form
    }
  }
  const plain = new RegExp(`;\\s*${key}\\s*=\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]+))`, "i").exec(disposition);
  if (!plain) return undefined;
  return plain[1] !== undefined ? plain[1].replace(/\\(.)/g, "$1") : plain[2];
}

/** The last path segment without control characters: `../../etc/passwd` becomes `passwd`. */
export function safeBaseName(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? "";
  // deno-lint-ignore no-control-regex -- control characters are exactly what is removed
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, "").replace(/^\.+/, "").trim().slice(0, 200);
  return clean === "" ? "upload.csv" : clean;
}
