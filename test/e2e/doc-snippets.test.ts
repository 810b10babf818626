// The TypeScript snippets of README.md and docs/*.md compile as written: each ```ts block
// becomes a file (one folder per document), the Deno ones are checked by `deno check`, the
// others by `tsc` (with Bun's and Node's types), "@background/tasks" resolving to this package
// as a user's install would provide it. A block whose first line is `// name.ts` is that
// module, which the document's other blocks import as "./name.ts".
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./_exampleServer.ts";

const work = join(root, "test/.tmp/doc-snippets");
const documents = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const files = documents.flatMap((document) => {
  const folder = document.replace(/^docs\//, "").replace(/\.md$/, "");
  const blocks = [...readFileSync(join(root, document), "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.map((code, i) => ({
    document,
    path: `${folder}/${/^\/\/ ([\w-]+\.ts)\b/.exec(code)?.[1] ?? `block-${String(i + 1).padStart(2, "0")}.ts`}`,
    code,
    deno: /\bDeno\./.test(code),
  }));
});

function run(cmd: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(cmd, args, { cwd: work, encoding: "utf8", timeout: 180_000, env: { ...process.env, NO_COLOR: "1" } });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** Names each failing file's document and first line, so the message points into the docs. */
function explain(output: string): string {
  return output.replace(/([\w-]+\/[\w-]+\.ts)(?=[(:])/g, (path) => {
    const file = files.find((f) => f.path === path);
    return file ? `${path} (${file.document}, block starting "${file.code.split("\n")[0]}")` : path;
  });
}

before(() => {
  rmSync(work, { recursive: true, force: true });
  for (const { path, code } of files) {
    mkdirSync(join(work, path, ".."), { recursive: true });
    writeFileSync(join(work, path), `${code}\nexport {};\n`);
  }
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("snippets in README.md and docs/*.md", () => {
  it("the README has snippets for Bun, Deno, Node, Workers, Hono, Elysia and BullMQ, and defines writeLog", () => {
    const readme = files.filter((f) => f.document === "README.md");
    assert.ok(readme.length >= 8, `${readme.length} blocks`);
    assert.ok(readme.some((f) => f.path === "README/writeLog.ts"), "a `// writeLog.ts` block, which the snippets import");
    assert.ok(readme.some((f) => f.deno), "a Deno snippet");
    for (
      const word of ["Bun.serve", "@hono/node-server", "waitUntil", "new Hono", "@background/tasks/elysia", "@background/tasks/bullmq"]
    ) {
      assert.ok(readme.some((f) => f.code.includes(word)), `a snippet with ${word}`);
    }
  });

  it("every snippet but Deno's compiles with tsc (Bun and Node types)", () => {
    writeFileSync(
      join(work, "tsconfig.json"),
      JSON.stringify({
        extends: "../../../tsconfig.json",
        compilerOptions: { isolatedDeclarations: false, declaration: false, types: ["bun-types", "node"] },
        include: [],
        files: files.filter((f) => !f.deno).map((f) => f.path),
      }),
    );
    const { ok, output } = run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
    assert.ok(ok, explain(output));
  });

  it("the Deno snippets pass deno check", () => {
    // The names a user's deno.json maps (see the README's Install section), here to this clone's sources.
    const sources = { "": "mod", "/elysia": "elysia", "/bullmq": "bullmq" };
    const imports = Object.fromEntries(
      Object.entries(sources).flatMap(([entry, file]) => [
        [`@background/tasks${entry}`, `../../../src/${file}.ts`],
        [`jsr:@background/tasks${entry}`, `../../../src/${file}.ts`],
      ]),
    );
    writeFileSync(join(work, "deno.json"), JSON.stringify({ nodeModulesDir: "manual", lock: false, imports }));
    const deno = files.filter((f) => f.deno).map((f) => f.path);
    const { ok, output } = run(join(root, "node_modules/.bin/deno"), ["check", "--config", "deno.json", ...deno]);
    assert.ok(ok, explain(output));
  });
});
