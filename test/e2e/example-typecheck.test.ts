// Type checks: the example server and its worker compile, and the plugin's context is typed
// in routes and sub-apps (wrong task arguments and a missing plugin fail).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { root } from "./_exampleServer.ts";

const tsc = join(root, "node_modules/typescript/bin/tsc");

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

// The checks are one tsc program with examples/app/tsconfig.json's settings: most of the time goes
// to the types of Elysia and the other libraries, which each check would load again. Each test
// fails on any error but those in files only the other checks are about.
const dir = join(root, "test/.tmp/elysia-types");
const context = relative(root, join(dir, "context.ts"));
let status: number | null = null;
let diagnostics: { file: string; text: string }[] = [];

before(async () => {
  await mkdir(dir, { recursive: true });
  await writeFile(join(root, context), contextCheck);
  await writeFile(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      extends: "../../../examples/app/tsconfig.json",
      include: ["../../../examples/app/**/*.ts", "../../../examples/server.ts", "../../../examples/worker.ts", "./context.ts"],
    }),
  );
  const result = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json"), "--pretty", "false"], { cwd: root, encoding: "utf8" });
  status = result.status;
  // One diagnostic per unindented line ("path(line,col): error TS...: ..."), with its indented details.
  diagnostics = `${result.stdout ?? ""}${result.stderr ?? ""}`.trimEnd().split(/\n(?=\S)/).filter((text) => text !== "").map((text) => ({
    file: /^(.+?)\(\d+,\d+\): /.exec(text)?.[1] ?? "",
    text,
  }));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Passes when tsc found nothing but errors in the files the other checks are about. */
function assertClean(othersFile: (file: string) => boolean): void {
  const mine = diagnostics.filter((d) => !othersFile(d.file));
  assert.deepEqual(mine.map((d) => d.text), []);
  assert.ok(status === 0 || diagnostics.length > 0, `tsc failed (${status}) without a diagnostic`);
}

test("the example server type-checks", () => {
  assertClean((file) => file === context || file === "examples/worker.ts");
});

// Any error in examples/ fails it, also in a module examples/worker.ts does not import.
test("examples/worker.ts type-checks", () => {
  assertClean((file) => file === context);
});

test("the plugin's context is typed, in sub-apps too", () => {
  assertClean((file) => file.startsWith("examples/"));
});
