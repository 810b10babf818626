// The README's TypeScript snippets compile as written: each ```ts block becomes a file, the
// Deno ones are checked by `deno check`, the others by `tsc` (with Bun's and Node's types),
// "@background/tasks" resolving to this package as a user's install would provide it.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { root } from "./_exampleServer.ts";

const work = join(root, "test/.tmp/readme-snippets");
const blocks = [...readFileSync(join(root, "README.md"), "utf8").matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
const isDeno = (code: string): boolean => /\bDeno\./.test(code);
// A block whose first line is `// name.ts` is that module, imported by other blocks as "./name.ts".
const files = blocks.map((code, i) => ({
  name: /^\/\/ ([\w-]+\.ts)\b/.exec(code)?.[1] ?? `block-${String(i + 1).padStart(2, "0")}.ts`,
  code,
  deno: isDeno(code),
}));

function run(cmd: string, args: string[]): { ok: boolean; output: string } {
  const result = spawnSync(cmd, args, { cwd: work, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** Names each failing file's block by its first line, so the message points into the README. */
function explain(output: string): string {
  return output.replace(/block-(\d+)\.ts/g, (name, n) => `${name} (README block starting "${blocks[Number(n) - 1]!.split("\n")[0]}")`);
}

before(() => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  for (const { name, code } of files) writeFileSync(join(work, name), `${code}\nexport {};\n`);
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("README snippets", () => {
  it("there are snippets for Bun, Deno, Node, Workers, Hono, Elysia and BullMQ, and writeLog is defined", () => {
    assert.ok(files.some((f) => f.name === "writeLog.ts"), "a `// writeLog.ts` block, which the snippets import");
    assert.ok(files.length >= 8, `${files.length} blocks`);
    assert.ok(files.some((f) => f.deno), "a Deno snippet");
    for (
      const word of ["Bun.serve", "@hono/node-server", "waitUntil", "new Hono", "@background/tasks/elysia", "@background/tasks/bullmq"]
    ) {
      assert.ok(files.some((f) => f.code.includes(word)), `a snippet with ${word}`);
    }
  });

  it("every snippet but Deno's compiles with tsc (Bun and Node types)", () => {
    writeFileSync(
      join(work, "tsconfig.json"),
      JSON.stringify({
        extends: "../../../tsconfig.json",
        compilerOptions: { isolatedDeclarations: false, declaration: false, types: ["bun-types", "node"] },
        include: [],
        files: files.filter((f) => !f.deno).map((f) => f.name),
      }),
    );
    const { ok, output } = run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
    assert.ok(ok, explain(output));
  });

  it("the Deno snippets pass deno check", () => {
    // The names a user's deno.json maps (see the README's Install section), here to this clone's sources.
    writeFileSync(
      join(work, "deno.json"),
      JSON.stringify({
        nodeModulesDir: "manual",
        lock: false,
        imports: {
          "@background/tasks": "../../../src/mod.ts",
          "@background/tasks/elysia": "../../../src/elysia.ts",
          "@background/tasks/bullmq": "../../../src/bullmq.ts",
        },
      }),
    );
    const deno = files.filter((f) => f.deno).map((f) => f.name);
    const { ok, output } = run(join(root, "node_modules/.bin/deno"), ["check", "--config", "deno.json", ...deno]);
    assert.ok(ok, explain(output));
  });
});
