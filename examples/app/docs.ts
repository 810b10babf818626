/**
 * API documentation: the OpenAPI document at `/swagger/json` and Swagger UI
 * at `/swagger`, its JavaScript and CSS served from the `swagger-ui-dist`
 * package (never a CDN). The only module that knows the docs library:
 * switching from the deprecated `@elysiajs/swagger` to `@elysiajs/openapi`
 * changes this file alone.
 */
import { Elysia } from "elysia";
import { swagger } from "@elysiajs/swagger";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const UI_PATH = "/swagger";
const SPEC_PATH = "/swagger/json";
const ASSETS: Record<string, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

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
  return new Elysia({ name: "example/docs" })
    .use(swagger({
      provider: "swagger-ui",
      // The plugin's own page loads Swagger UI from unpkg.com; it is moved aside and ours is served at UI_PATH.
      path: `${UI_PATH}/cdn`,
      specPath: SPEC_PATH,
      documentation: {
        info: { title: info.title, version: info.version, description: info.description },
        tags: info.tags.map((tag) => ({ ...tag })),
      },
    }))
    .get(UI_PATH, () => new Response(page, { headers: { "content-type": "text/html; charset=utf-8" } }), { detail: { hide: true } })
    .get(`${UI_PATH}/assets/:name`, async ({ params }) => {
      const type = ASSETS[params.name];
      if (type === undefined) return Response.json({ error: "Not Found", message: `No docs asset ${params.name}.` }, { status: 404 });
      let bytes = cache.get(params.name);
      if (bytes === undefined) cache.set(params.name, bytes = readFile(join(assetsDir, params.name)).then((data) => new Blob([data])));
      return new Response(await bytes, { headers: { "content-type": type, "cache-control": "public, max-age=3600" } });
    }, { detail: { hide: true } });
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
