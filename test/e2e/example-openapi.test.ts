// The example server's OpenAPI document is exact: valid OpenAPI, integers typed as integers,
// every example valid against its schema, every documented status answered as documented
// (JSON only), and the statuses the routes really answer are documented.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { type ExampleServer, startExample } from "./_exampleServer.ts";

type Json = Record<string, unknown>;
let server: ExampleServer;
let document: Json;

before(async () => {
  server = await startExample();
  const response = await fetch(`${server.base}/swagger/json`);
  assert.equal(response.status, 200);
  document = await response.json() as Json;
});
after(() => server?.close());

const operations = (): { method: string; path: string; operation: Json }[] =>
  Object.entries(document.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ method, path, operation }))
  );

/** Every schema object in `value`, with where it is. */
function* schemas(value: unknown, where: string): Generator<[string, Json]> {
  if (typeof value !== "object" || value === null) return;
  const schema = value as Json;
  yield [where, schema];
  for (const [name, property] of Object.entries((schema.properties ?? {}) as Json)) yield* schemas(property, `${where}.${name}`);
  if (schema.items) yield* schemas(schema.items, `${where}[]`);
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    for (const [i, branch] of ((schema[key] ?? []) as unknown[]).entries()) yield* schemas(branch, `${where}.${key}[${i}]`);
  }
}

/** [where, schema] of every parameter, request body and response body. */
function topSchemas(): [string, Json, Json][] {
  const found: [string, Json, Json][] = [];
  for (const { method, path, operation } of operations()) {
    const name = `${method.toUpperCase()} ${path}`;
    for (const parameter of (operation.parameters ?? []) as Json[]) {
      found.push([`${name} parameter ${parameter.name}`, parameter.schema as Json, parameter]);
    }
    for (const [type, media] of Object.entries(((operation.requestBody as Json | undefined)?.content ?? {}) as Record<string, Json>)) {
      found.push([`${name} body ${type}`, media.schema as Json, media]);
    }
    for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
      for (const [type, media] of Object.entries((response.content ?? {}) as Record<string, Json>)) {
        found.push([`${name} ${status} ${type}`, media.schema as Json, media]);
      }
    }
  }
  return found;
}

describe("the OpenAPI document", () => {
  it("is valid OpenAPI (@seriousme/openapi-schema-validator)", async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document));
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(validator.version, "3.0");
  });

  it("types whole numbers as integers, never as `string | integer`", () => {
    const integers: string[] = [];
    for (const [where, top] of topSchemas()) {
      for (const [path, schema] of schemas(top, where)) {
        assert.ok(
          !(Array.isArray(schema.anyOf) &&
            (schema.anyOf as Json[]).some((branch) => branch.type === "string" && /^(integer|numeric)$/.test(String(branch.format)))),
          `${path} is a string-or-number union: ${JSON.stringify(schema)}`,
        );
        if (schema.type === "integer") integers.push(path.split(" ").pop()!);
      }
    }
    for (const field of ["limit", ".bytes", ".rows", ".line", ".stats.waiting", ".stats.succeeded", ".stats.skipped", ".attempts"]) {
      assert.ok(integers.some((path) => path.endsWith(field)), `${field} is an integer (integers: ${integers.join(", ")})`);
    }
  });

  it("has an example for every parameter and body, and every example is valid against its schema", () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    let checked = 0;
    for (const [where, top, holder] of topSchemas()) {
      if (top.format === "binary" || (top.properties as Json | undefined)?.file) continue; // a file picker
      const validate = ajv.compile(top);
      const example = holder.example ?? top.example ?? (top.type === "array" ? [(top.items as Json).example] : undefined);
      if (where.includes("parameter") && top.default !== undefined && example === undefined) continue; // the default is the example
      assert.notEqual(example, undefined, `${where} has no example`);
      assert.ok(validate(example), `${where}: example ${JSON.stringify(example)} is not valid: ${ajv.errorsText(validate.errors)}`);
      checked++;
      // Examples nested in the schema (what Swagger UI builds a sample from) are valid too.
      for (const [path, schema] of schemas(top, where)) {
        if (schema.example === undefined) continue;
        const nested = ajv.compile(schema);
        assert.ok(nested(schema.example), `${path}: example ${JSON.stringify(schema.example)}: ${ajv.errorsText(nested.errors)}`);
        checked++;
      }
    }
    assert.ok(checked > 20, `only ${checked} examples checked`);
  });

  it("answers are advertised as JSON only, each response with a description", () => {
    for (const { method, path, operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
        assert.equal(typeof response.description, "string", `${method} ${path} ${status} has a description`);
        assert.deepEqual(Object.keys((response.content ?? {}) as Json), ["application/json"], `${method} ${path} ${status}`);
      }
    }
  });

  it("documents the statuses the routes answer", () => {
    const statuses = (method: string, path: string): string[] =>
      Object.keys(((document.paths as Json)[path] as Record<string, Json>)[method]!.responses as Json).sort();
    assert.deepEqual(statuses("post", "/send-notification/{email}"), ["200", "422", "503"]);
    for (const status of ["200", "400", "413", "422", "503"]) {
      assert.ok(statuses("post", "/register").includes(status), `POST /register ${status}`);
    }
    for (const status of ["202", "400", "413", "415", "503", "507"]) {
      assert.ok(statuses("post", "/upload").includes(status), `POST /upload ${status}`);
    }
    assert.deepEqual(statuses("get", "/uploads/{id}"), ["200", "404", "422"]);
    assert.deepEqual(statuses("get", "/outbox"), ["200", "422"]);
    assert.deepEqual(statuses("get", "/tasks"), ["200"]);
  });

  it("documents the headers of the answers: Location of an upload, Retry-After of a full queue", () => {
    const responses = (
      method: string,
      path: string,
    ) => (((document.paths as Json)[path] as Record<string, Json>)[method]!.responses as Record<string, Json>);
    assert.ok((responses("post", "/upload")["202"]!.headers as Json | undefined)?.Location, "202 Location");
    for (const [method, path] of [["post", "/upload"], ["post", "/register"], ["post", "/send-notification/{email}"]] as const) {
      assert.ok((responses(method, path)["503"]!.headers as Json | undefined)?.["Retry-After"], `${path} 503 Retry-After`);
    }
  });

  it("the /register username has an example, so Swagger UI does not make one up from its pattern", () => {
    const body = ((document.paths as Json)["/register"] as Record<string, Json>).post!.requestBody as Json;
    const schema = ((body.content as Record<string, Json>)["application/json"]!.schema) as Json;
    assert.deepEqual(schema.example, { email: "ada@example.com", username: "ada" });
    assert.equal(((schema.properties as Record<string, Json>).username!).example, "ada");
  });

  it("documented answers are the real ones: a bad ?limit says what a limit must be", async () => {
    for (const limit of ["abc", "0", "501", "1.5"]) {
      const response = await fetch(`${server.base}/outbox?limit=${limit}`);
      assert.equal(response.status, 422);
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      const body = await response.json() as { message: string };
      assert.equal(body.message, "The query parameter limit must be a whole number from 1 to 500.");
    }
    const big = await fetch(`${server.base}/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "ada@example.com", username: "x".repeat(70_000) }),
    });
    assert.equal(big.status, 413);
    assert.match(big.headers.get("content-type") ?? "", /^application\/json/);
  });
});
