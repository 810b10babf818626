// Type checks: the example server compiles, and the plugin's context is typed
// in routes and sub-apps (wrong task arguments and a missing plugin fail).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { root } from "./_exampleServer.ts";

const tsc = join(root, "node_modules/typescript/bin/tsc");

function typecheck(project: string): { ok: boolean; output: string } {
  const result = spawnSync(process.execPath, [tsc, "-p", project], { cwd: root, encoding: "utf8" });
  return { ok: result.status === 0, output: result.stdout + result.stderr };
}

test("the example server type-checks", () => {
  const { ok, output } = typecheck("examples/app/tsconfig.json");
  assert.ok(ok, output);
});

const contextCheck = `
import { Elysia } from "elysia";
import type { BackgroundTasks } from "@background/tasks";
import { backgroundTasks } from "@background/tasks/elysia";

const writeLog = (line: string, level: number): void => void [line, level];

const users = new Elysia({ prefix: "/users" })
  .use(backgroundTasks())
  .post("/:name", ({ params, backgroundTasks }) => {
    const tasks: BackgroundTasks = backgroundTasks;
    tasks.addTask(writeLog, params.name, 1);
    // @ts-expect-error the second argument must be a number
    tasks.addTask(writeLog, params.name, "1");
    // @ts-expect-error an argument is missing
    tasks.addTask(writeLog, params.name);
    return "ok";
  });

new Elysia().use(users).use(backgroundTasks()).get("/", ({ backgroundTasks }) => backgroundTasks.size);

// @ts-expect-error without the plugin there is no backgroundTasks
new Elysia().get("/", ({ backgroundTasks }) => backgroundTasks);
`;

test("the plugin's context is typed, in sub-apps too", async () => {
  const dir = join(root, "test/.tmp/elysia-types");
  await mkdir(dir, { recursive: true });
  try {
    await writeFile(join(dir, "context.ts"), contextCheck);
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        extends: "../../../tsconfig.json",
        compilerOptions: { isolatedDeclarations: false, declaration: false, noUnusedLocals: false },
        include: ["./context.ts"],
      }),
    );
    const { ok, output } = typecheck(join(dir, "tsconfig.json"));
    assert.ok(ok, output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
