// The published packages, checked like a user would receive them: the JSR dry run, the
// npm tarball's contents, publint, and the packed tarball installed into a fresh project
// and imported by name under Node and Bun. Entry points are read from package.json, so a
// new one (./elysia, ./bullmq, ...) is covered without touching this file.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

const root = new URL("../..", import.meta.url).pathname;
const bin = (name: string): string => join(root, "node_modules/.bin", name);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const jsr = JSON.parse(readFileSync(join(root, "jsr.json"), "utf8"));
const entryPoints = Object.keys(pkg.exports as Record<string, unknown>).sort();
const specifier = (entry: string): string => entry === "." ? pkg.name : `${pkg.name}/${entry.slice(2)}`;

/** Runs a command; returns stdout and stderr together (or stdout alone); on failure the assertion shows both. */
function run(cmd: string, args: string[], options: { cwd?: string; timeout?: number; stdoutOnly?: boolean } = {}): string {
  const result = spawnSync(cmd, args, {
    cwd: options.cwd ?? root,
    encoding: "utf8",
    timeout: options.timeout ?? 120_000,
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  assert.equal(result.status, 0, `${cmd} ${args.join(" ")} failed (${result.status ?? result.signal}):\n${output}`);
  return options.stdoutOnly ? result.stdout : output;
}

describe("package", () => {
  it("package.json and jsr.json export the same entry points, at the same version", () => {
    assert.deepEqual(Object.keys(jsr.exports).sort(), entryPoints);
    assert.equal(jsr.name, pkg.name);
    assert.equal(jsr.version, pkg.version);
    for (const [entry, target] of Object.entries(jsr.exports as Record<string, string>)) {
      assert.ok(existsSync(join(root, target)), `jsr.json exports ${entry} → ${target}, which does not exist`);
    }
  });

  it("package-lock.json's root entry matches package.json (npm install leaves a fresh clone unchanged)", () => {
    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
    const rootEntry = lock.packages[""];
    for (
      const field of [
        "name",
        "version",
        "license",
        "engines",
        "dependencies",
        "devDependencies",
        "peerDependencies",
        "peerDependenciesMeta",
        "optionalDependencies",
      ]
    ) {
      assert.deepEqual(
        rootEntry[field],
        pkg[field],
        `package-lock.json packages[""].${field} differs from package.json: run npm install and commit the lock`,
      );
    }
    assert.equal(lock.name, pkg.name);
    assert.equal(lock.version, pkg.version);
  });

  it("deno publish --dry-run passes (no slow types)", () => {
    // The plain command, as a release would run it: it must find jsr.json by itself (a root
    // deno.json without a name would shadow it).
    const output = run(bin("deno"), ["publish", "--dry-run", "--allow-dirty"], { timeout: 180_000 });
    // deno-lint-ignore no-control-regex -- strips terminal colour codes
    const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
    // The worker thread imports the user's tasks module, known only at run time: that one dynamic import is meant.
    const meant = /^warning\[unanalyzable-dynamic-import\][^\n]*\n\s*-->\s*\S*src\/worker\/thread\.js:\d+:\d+/gm;
    assert.doesNotMatch(plain.replace(meant, ""), /^(error|warning)/im, plain);
    assert.match(plain, /Success Dry run complete/);
  });

  it("publint reports no problem", () => {
    const output = run(bin("publint"), ["--strict"]);
    assert.match(output, /All good!/, output);
  });

  describe("the npm tarball", () => {
    const work = join(root, "test/.tmp/package");
    let tarball = "";
    let packedName = "";
    let files: string[] = [];

    before(() => {
      assert.ok(existsSync(join(root, "dist/mod.js")), "dist/ is missing: run `npm run build` first (npm test does)");
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      // --ignore-scripts: pack the dist/ this test run built; "prepare" would rebuild it under the other tests.
      const packed = JSON.parse(
        run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], { stdoutOnly: true }).replace(/^[^[]*/, ""),
      );
      packedName = packed[0].filename;
      tarball = join(work, packedName);
      files = (packed[0].files as { path: string }[]).map((f) => f.path).sort();
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    it("contains exactly the built files, their types, README, CHANGELOG, package.json (and LICENSE)", () => {
      const allowed = new Set(["package.json", "README.md", "CHANGELOG.md", "LICENSE"]);
      const stray = files.filter((f) => !f.startsWith("dist/") && !allowed.has(f));
      assert.deepEqual(stray, [], "files outside dist/ that should not be published");
      for (const required of ["package.json", "README.md", "CHANGELOG.md"]) assert.ok(files.includes(required), `${required} missing`);
      if (existsSync(join(root, "LICENSE"))) assert.ok(files.includes("LICENSE"), "LICENSE exists but is not packed");
      const built = readdirSync(join(root, "dist"), { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name).slice(root.length))
        .sort();
      assert.deepEqual(files.filter((f) => f.startsWith("dist/")), built);
      for (const source of readdirSync(join(root, "src")).filter((f) => f.endsWith(".ts"))) {
        const stem = source.slice(0, -3);
        assert.ok(files.includes(`dist/${stem}.js`) && files.includes(`dist/${stem}.d.ts`), `dist/${stem}.js or .d.ts not packed`);
      }
    });

    it("every export condition points at a packed file", () => {
      const targets = (value: unknown): string[] =>
        typeof value === "string" ? [value] : Object.values(value as Record<string, unknown>).flatMap(targets);
      for (const entry of entryPoints) {
        for (const target of targets(pkg.exports[entry])) {
          assert.ok(files.includes(target.replace(/^\.\//, "")), `exports["${entry}"] → ${target} is not in the tarball`);
        }
      }
    });

    describe("the README's Install section, followed", () => {
      const readme = readFileSync(join(root, "README.md"), "utf8");
      const install = readme.slice(readme.indexOf("## Install"), readme.indexOf("\n## ", readme.indexOf("## Install") + 1));
      const shell = /```sh\n([\s\S]*?)```/.exec(install)?.[1] ?? "";
      const commands = shell.split("\n").map((line) => line.replace(/#.*/, "").trim()).filter(Boolean);

      it("says the package is not published yet, and packs it as `npm pack` does here", () => {
        assert.match(install, /Not published yet/);
        assert.deepEqual(commands, ["npm pack", `npm install /path/to/${packedName}`]);
      });

      it("npm install /path/to/clone (a path) installs a package that imports by name", () => {
        const project = join(work, "by-path");
        mkdirSync(project, { recursive: true });
        writeFileSync(join(project, "package.json"), JSON.stringify({ name: "by-path", private: true, type: "module" }));
        assert.match(install, /npm install \/path\/to\/clone/);
        run("npm", ["install", root, "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"], { cwd: project });
        writeFileSync(
          join(project, "smoke.mjs"),
          `import { withBackgroundTasks } from ${JSON.stringify(pkg.name)};\nconsole.log(typeof withBackgroundTasks);\n`,
        );
        assert.equal(run(process.execPath, ["smoke.mjs"], { cwd: project, stdoutOnly: true }).trim(), "function");
      });

      it("Deno: the deno.json import map it shows, pointed at this clone, runs a task", () => {
        const json = /```json\n([\s\S]*?)```/.exec(install)?.[1];
        assert.ok(json, "the Install section shows a deno.json");
        const project = join(work, "deno");
        mkdirSync(project, { recursive: true });
        writeFileSync(join(project, "deno.json"), json.replaceAll("/path/to/clone", root));
        writeFileSync(
          join(project, "main.ts"),
          `import { getBackgroundTasks, withBackgroundTasks, defaultTaskRunner } from "@background/tasks";
const ran: string[] = [];
const handler = withBackgroundTasks((request: Request) => {
  getBackgroundTasks(request).addTask((path: string) => void ran.push(path), new URL(request.url).pathname);
  return new Response("ok");
});
await (await handler(new Request("http://localhost/smoke"))).text();
await defaultTaskRunner.drain({ timeoutMs: 1000 });
console.log(JSON.stringify({ ran }));
`,
        );
        const output = run(bin("deno"), ["run", "--quiet", "--no-lock", "--allow-all", "main.ts"], { cwd: project, stdoutOnly: true });
        assert.deepEqual(JSON.parse(output.trim().split("\n").pop()!), { ran: ["/smoke"] });
      });
    });

    describe("installed into a fresh project", () => {
      // Inside test/.tmp so the optional peers of some entry points (elysia, bullmq, ...)
      // resolve from the repository's node_modules, as a user's own install would provide them.
      const project = join(work, "consumer");
      before(() => {
        mkdirSync(project, { recursive: true });
        writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
        run("npm", ["install", tarball, "--offline", "--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"], { cwd: project });
        writeFileSync(
          join(project, "import-all.mjs"),
          entryPoints.map((entry, i) => `import * as m${i} from ${JSON.stringify(specifier(entry))};`).join("\n") +
            `\nconsole.log(JSON.stringify([${entryPoints.map((_, i) => `Object.keys(m${i}).length`).join(", ")}]));\n`,
        );
      });

      for (const runtime of ["node", "bun"] as const) {
        it(`imports every entry point by name under ${runtime}`, () => {
          const cmd = runtime === "node" ? process.execPath : bin("bun");
          const output = run(cmd, ["import-all.mjs"], { cwd: project });
          const counts = JSON.parse(output.trim().split("\n").pop()!) as number[];
          assert.equal(counts.length, entryPoints.length);
          counts.forEach((count, i) => assert.ok(count > 0, `${specifier(entryPoints[i]!)} exports nothing`));
        });
      }

      it("the installed core works: a task runs after the response body is read", () => {
        writeFileSync(
          join(project, "smoke.mjs"),
          `import { getBackgroundTasks, withBackgroundTasks, defaultTaskRunner } from ${JSON.stringify(pkg.name)};
const ran = [];
const handler = withBackgroundTasks((request) => {
  getBackgroundTasks(request).addTask((path) => ran.push(path), new URL(request.url).pathname);
  return new Response("ok");
});
const response = await handler(new Request("http://localhost/smoke"));
const before = ran.length;
await response.text();
await defaultTaskRunner.drain({ timeoutMs: 1000 });
console.log(JSON.stringify({ before, ran }));
`,
        );
        for (const cmd of [process.execPath, bin("bun")]) {
          const output = run(cmd, ["smoke.mjs"], { cwd: project });
          assert.deepEqual(JSON.parse(output.trim().split("\n").pop()!), { before: 0, ran: ["/smoke"] });
        }
      });
    });
  });
});
