/**
 * API documentation: the OpenAPI document at `/swagger/json` and Swagger UI
 * at `/swagger`, its JavaScript and CSS served from the `swagger-ui-dist`
 * package (never a CDN). The only module that knows the docs library:
 * switching from the deprecated `@elysiajs/swagger` to `@elysiajs/openapi`
 * changes this file alone.
 *
 * The plugin's document is made exact here before it is served: Elysia's
 * query-coercing unions (`t.Integer` is "string or integer") become plain
 * integers, JSON Schema's `examples` and `const` become OpenAPI 3.0's `example`
 * and `enum`, JSON answers are advertised as JSON only, and every response has
 * a description.
 */
import { Elysia } from "elysia";
import { swagger } from "@elysiajs/swagger";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const UI_PATH = "/swagger";
const SPEC_PATH = "/swagger/json";
// The plugin's own page and document, hidden; the exact document is served at SPEC_PATH.
const PLUGIN_PATH = `${UI_PATH}/plugin`;
// A Map, not an object: the key comes from the URL, and an object would answer "constructor" or "__proto__".
const ASSETS = new Map<string, string>([
  ["swagger-ui-bundle.js", "text/javascript; charset=utf-8"],
  ["swagger-ui.css", "text/css; charset=utf-8"],
  ["favicon-32x32.png", "image/png"],
]);

export interface DocsInfo {
  readonly title: string;
  readonly version: string;
  readonly description: string;
  readonly tags: readonly { name: string; description: string }[];
}

/** The docs plugin: OpenAPI generated from the routes' TypeBox schemas, plus a local Swagger UI. */
export function apiDocs(info: DocsInfo) {
  const assetsDir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const cache = new Map<string, Promise<Blob>>();
  const page = uiPage(info.title);
  const plugin = swagger({
    provider: "swagger-ui",
    // The plugin's own page loads Swagger UI from unpkg.com; it is moved aside and ours is served at UI_PATH.
    path: PLUGIN_PATH,
    specPath: `${PLUGIN_PATH}/json`,
    documentation: {
      info: { title: info.title, version: info.version, description: info.description },
      tags: info.tags.map((tag) => ({ ...tag })),
    },
  });
  const generated = plugin.routes.find((route) => route.path === `${PLUGIN_PATH}/json`)?.handler;
  if (typeof generated !== "function") {
    throw new Error("@elysiajs/swagger no longer serves its document as a route; update examples/app/docs.ts.");
  }
  return new Elysia({ name: "example/docs" })
    .use(plugin)
    .get(SPEC_PATH, () => exactDocument((generated as () => unknown)()), { detail: { hide: true } })
    .get(UI_PATH, () => new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } }), { detail: { hide: true } })
    .get(`${UI_PATH}/assets/:name`, async ({ params }) => {
      const type = ASSETS.get(params.name);
      if (type === undefined) return Response.json({ error: "Not Found", message: `No docs asset ${params.name}.` }, { status: 404 });
      let bytes = cache.get(params.name);
      if (bytes === undefined) cache.set(params.name, bytes = readFile(join(assetsDir, params.name)).then((data) => new Blob([data])));
      return new Response(await bytes, { headers: { "content-type": type, "cache-control": "public, max-age=3600" } });
    }, { detail: { hide: true } });
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

const REASONS: Record<string, string> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  400: "Bad Request",
  404: "Not Found",
  413: "Payload Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  503: "Service Unavailable",
  507: "Insufficient Storage",
};

const RESPONSE_FIELDS = new Set(["description", "headers", "content", "links"]);

/** The plugin's document, made exact OpenAPI 3.0 (a copy: the plugin keeps and reuses its own). */
export function exactDocument(generated: unknown): Json {
  const document = JSON.parse(JSON.stringify(generated)) as Json;
  for (const item of Object.values((document.paths ?? {}) as Record<string, Json>)) {
    for (const operation of Object.values(item) as Json[]) {
      for (const parameter of (operation.parameters ?? []) as Json[]) {
        const { examples } = parameter;
        delete parameter.examples;
        if (Array.isArray(examples) && examples.length > 0) parameter.example = examples[0];
        if (parameter.description === undefined) delete parameter.description;
        parameter.schema = schema30(parameter.schema);
      }
      const body = operation.requestBody as Json | undefined;
      for (const media of Object.values((body?.content ?? {}) as Record<string, Json>)) media.schema = schema30(media.schema);
      for (const [status, response] of Object.entries((operation.responses ?? {}) as Record<string, Json>)) {
        const content = response.content as Record<string, Json> | undefined;
        // The plugin lists every parser's type for a route without `parse`; the answers are JSON.
        if (content?.["application/json"] !== undefined) {
          for (const type of Object.keys(content)) if (type !== "application/json") delete content[type];
        }
        // The plugin copies the schema's keywords (description, examples, items, ...) onto the response itself.
        const { examples } = response;
        for (const key of Object.keys(response)) if (!RESPONSE_FIELDS.has(key) && !key.startsWith("x-")) delete response[key];
        for (const media of Object.values(content ?? {})) {
          media.schema = schema30(media.schema);
          if (Array.isArray(examples) && examples.length > 0) media.example = examples[0];
        }
        if (typeof response.description !== "string") response.description = REASONS[status] ?? `HTTP ${status}`;
      }
    }
  }
  return document;
}

/** A TypeBox (JSON Schema) schema as an OpenAPI 3.0 schema object. */
function schema30(value: unknown): unknown {
  if (!isObject(value)) return value;
  let schema: Json = { ...value };
  const anyOf = schema.anyOf as Json[] | undefined;
  if (Array.isArray(anyOf)) {
    // Elysia's t.Integer / t.Numeric: a string form (for query strings) or the number itself.
    const numbers = anyOf.filter((branch) => !(branch.type === "string" && (branch.format === "integer" || branch.format === "numeric")));
    if (numbers.length === 1 && numbers.length < anyOf.length) {
      const { anyOf: _, ...outer } = schema;
      schema = { ...outer, ...numbers[0] };
    } else if (anyOf.length > 0 && anyOf.every((branch) => "const" in branch && branch.type === anyOf[0]!.type)) {
      const { anyOf: _, ...outer } = schema;
      schema = { ...outer, type: anyOf[0]!.type, enum: anyOf.map((branch) => branch.const) };
    }
  }
  delete schema.error; // Elysia's custom validation message, not a schema keyword
  if ("const" in schema) {
    schema.enum = [schema.const];
    delete schema.const;
  }
  if (Array.isArray(schema.examples)) {
    if (schema.examples.length > 0 && schema.example === undefined) schema.example = schema.examples[0];
    delete schema.examples;
  }
  for (const key of ["items", "not", "additionalProperties"]) if (isObject(schema[key])) schema[key] = schema30(schema[key]);
  for (const key of ["anyOf", "oneOf", "allOf"]) if (Array.isArray(schema[key])) schema[key] = (schema[key] as unknown[]).map(schema30);
  if (isObject(schema.properties)) {
    schema.properties = Object.fromEntries(Object.entries(schema.properties).map(([name, property]) => [name, schema30(property)]));
  }
  return schema;
}

function uiPage(title: string): string {
  const escaped = title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escaped}</title>
  <link rel="icon" type="image/png" href="${UI_PATH}/assets/favicon-32x32.png">
  <link rel="stylesheet" href="${UI_PATH}/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${UI_PATH}/assets/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "${SPEC_PATH}", dom_id: "#swagger-ui", deepLinking: true });
  </script>
</body>
</html>`;
}
