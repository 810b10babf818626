/** `POST /upload` and `GET /uploads/{id}`: the seed's CSV example, done with bounded memory. */
import { Elysia, t } from "elysia";
import { TaskQueueFullError } from "@background/tasks";
import { backgroundTasks } from "@background/tasks/elysia";
import { mkdir, rm } from "node:fs/promises";
import { config } from "../config.ts";
import { HttpError } from "../errors.ts";
import { addCsvTask, csvRunner, runner } from "../runner.ts";
import { Busy, Failure, Integer, type ResponseHeaders } from "../schemas.ts";
import { receiveFile } from "../uploads/receiveFile.ts";
import { uploadStored } from "../uploads/retention.ts";
import { createJob, deleteJob, getJob, newUpload, type UploadJob, uploadsDir } from "../uploads/uploadJobs.ts";

const UploadJobView = t.Object({
  id: t.String({ format: "uuid" }),
  status: t.Union([t.Literal("queued"), t.Literal("running"), t.Literal("done"), t.Literal("failed")]),
  filename: t.String({ description: "The client's file name (base name only; the server chose where to store it)." }),
  bytes: Integer({ minimum: 0 }),
  rows: Integer({ minimum: 0, description: "Data rows processed so far, header excluded." }),
  columns: t.Optional(
    t.Array(t.String(), { maxItems: 256, description: "The header's column names: the first 256, each cut to 128 characters." }),
  ),
  columnCount: t.Optional(Integer({ minimum: 0, description: "How many columns the header has." })),
  columnsTruncated: t.Optional(
    t.Boolean({ description: "True when `columns` was cut: more than 256 columns, or a name longer than 128 characters." }),
  ),
  error: t.Optional(t.Object({
    line: t.Optional(Integer({ minimum: 1, description: "The line of the file where parsing failed." })),
    reason: t.String(),
  })),
  createdAt: t.String({ format: "date-time" }),
  startedAt: t.Optional(t.String({ format: "date-time" })),
  finishedAt: t.Optional(t.String({ format: "date-time" })),
}, { description: "An upload and the state of its background processing." });

/** The job as answered by `route`, with an example of it. */
const jobAnswer = (description: string, example: typeof UploadJobView.static, headers?: ResponseHeaders) =>
  t.Object(UploadJobView.properties, { description, examples: [example], ...(headers && { headers }) });
const QUEUED = {
  id: "0211af2d-f8db-4a0b-9ebe-0730278272a7",
  status: "queued",
  filename: "people.csv",
  bytes: 16,
  rows: 0,
  createdAt: "2026-11-30T08:00:00.000Z",
} as const;

const CSV_TYPES = new Set(["text/csv", "application/csv", "text/x-csv", "application/vnd.ms-excel"]);
const GENERIC_TYPES = new Set(["", "application/octet-stream", "text/plain"]);

// t.File({ type: "text/csv" }) cannot work: CSV has no magic bytes, so the type is checked here.
function acceptCsv(file: { filename: string; contentType: string }): void {
  const type = file.contentType.split(";")[0]!.trim();
  if (CSV_TYPES.has(type) || (GENERIC_TYPES.has(type) && file.filename.toLowerCase().endsWith(".csv"))) return;
  throw new HttpError(415, `Expected a CSV file (.csv, text/csv); got "${file.filename}" of type ${type || "(none)"}.`);
}

function rejectBinary(head: Buffer): void {
  if (head.includes(0)) throw new HttpError(415, "The file contains binary data (NUL bytes); a CSV file is text.");
}

function view(job: UploadJob): typeof UploadJobView.static {
  return JSON.parse(JSON.stringify(job)); // drops the fields not set yet
}

export const uploadRoutes = new Elysia({ name: "routes/uploads" })
  .use(backgroundTasks(runner))
  .post("/upload", async ({ request, set, backgroundTasks }) => {
    // A full runner would refuse the task: say so before the upload is read and stored.
    const { waiting, queued } = csvRunner.stats();
    if (waiting + queued >= config.taskMaxPending) throw new TaskQueueFullError(config.taskMaxPending);
    const { id, path } = newUpload();
    let stored = false;
    try {
      await mkdir(uploadsDir, { recursive: true });
      const file = await receiveFile(request, {
        field: "file",
        path,
        maxBytes: config.maxUploadBytes,
        accept: acceptCsv,
        inspect: rejectBinary,
      });
      stored = true;
      if (file.bytes === 0) throw new HttpError(400, `The file "${file.filename}" is empty; send a CSV with a header line and data rows.`);
      const job = createJob(id, file.filename, file.bytes);
      addCsvTask(backgroundTasks, id);
      set.status = 202;
      set.headers.location = `/uploads/${id}`;
      uploadStored(id, file.bytes);
      return view(job);
    } catch (error) {
      // Refused (empty, queue full, …): nothing of it is kept.
      if (stored) await rm(path, { force: true });
      deleteJob(id);
      throw error;
    }
  }, {
    response: {
      202: jobAnswer("Stored; the CSV is parsed after the response is sent.", QUEUED, {
        Location: { description: "Where to follow the upload: /uploads/{id}.", schema: { type: "string" } },
      }),
      400: Failure(
        400,
        "The form has no `file` field, or the file is empty.",
        'The file "people.csv" is empty; send a CSV with a header line and data rows.',
      ),
      413: Failure(
        413,
        `The file is larger than ${config.maxUploadBytes} bytes.`,
        `The file is larger than the limit of ${config.maxUploadBytes} bytes.`,
      ),
      415: Failure(415, "The file is not CSV text.", 'Expected a CSV file (.csv, text/csv); got "photo.png" of type image/png.'),
      503: Busy,
      507: Failure(507, "The server's disk is full.", "The server's disk is full, so the upload could not be stored; try again later."),
    },
    detail: {
      tags: ["uploads"],
      summary: "Upload a CSV file",
      description: "Streams the file in the form field `file` to disk under a server-chosen name and answers 202 at once; " +
        `the CSV is parsed in the background. Limit: ${config.maxUploadBytes} bytes (413 above). ` +
        "503 with Retry-After when the server has too much background work queued; a refused upload is not kept. " +
        "Processed uploads are deleted by the retention policy (UPLOAD_KEEP_SECONDS, UPLOAD_KEEP_COUNT, UPLOAD_KEEP_BYTES). " +
        "Follow the progress at GET /uploads/{id}.",
      // The body is streamed by the handler, not parsed by Elysia (formData() would hold the whole file in memory),
      // so the OpenAPI request body is written out here; Swagger UI shows a file picker for it.
      requestBody: {
        required: true,
        content: {
          "multipart/form-data": {
            schema: {
              type: "object",
              required: ["file"],
              properties: { file: { type: "string", format: "binary", description: "A CSV file with a header line." } },
            },
          },
        },
      },
    },
  })
  .get("/uploads/:id", ({ params }) => {
    const job = getJob(params.id);
    if (job === undefined) {
      throw new HttpError(
        404,
        `No upload ${params.id}; ids come from POST /upload, and processed uploads are deleted after a while (UPLOAD_KEEP_*).`,
      );
    }
    return view(job);
  }, {
    params: t.Object({ id: t.String({ format: "uuid", description: "The id POST /upload answered with.", examples: [QUEUED.id] }) }),
    response: {
      200: jobAnswer("The upload and its processing.", {
        ...QUEUED,
        status: "done",
        rows: 1,
        columns: ["name", "age"],
        columnCount: 2,
        startedAt: "2026-11-30T08:00:00.010Z",
        finishedAt: "2026-11-30T08:00:00.012Z",
      }),
      404: Failure(
        404,
        "No such upload (or it is no longer kept).",
        `No upload ${QUEUED.id}; ids come from POST /upload, and processed uploads are deleted after a while (UPLOAD_KEEP_*).`,
      ),
      422: Failure(422, "The id is not a UUID.", "Invalid params id: Property 'id' should be uuid."),
    },
    detail: {
      tags: ["uploads"],
      summary: "Status of an upload",
      description: "`status` is queued, running, done or failed; on failure `error` has the line and reason.",
    },
  });
