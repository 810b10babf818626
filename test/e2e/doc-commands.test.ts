// Every shell command of README.md and docs/*.md works as written. Each command of a ```sh
// block, and each command-like inline `code` span, is checked: its program exists (npx tools in
// node_modules/.bin), its npm script or `npm test -- <word>` step exists, the repository files
// it names exist, and the environment variables it sets are read somewhere. Then the commands
// that start a server are run (PORT=0, a fresh DATA_DIR) and the curl commands that follow them
// in the same document are run against it, verbatim but for the host and port.
// Commands that run the suite itself (npm test, npm ci, ...) are only checked: .ci/run runs them.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { root } from "./_exampleServer.ts";

interface Command {
  readonly file: string;
  readonly text: string;
  readonly inline: boolean;
}

const documents = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const steps = [...readFileSync(join(root, "scripts/test.mjs"), "utf8").matchAll(/name: "([^"]+)", runtime: "(\w+)"/g)].map((
  m,
) => [m[1]!, m[2]!]);
const bin = (name: string): string => join(root, "node_modules/.bin", name);

/** The commands of one document, in order: ```sh lines (continuations joined, comments cut) and inline spans. */
function commandsOf(file: string): Command[] {
  const text = readFileSync(join(root, file), "utf8");
  const found: { at: number; command: Command }[] = [];
  for (const block of text.matchAll(/^```(?:sh|bash|shell)\n([\s\S]*?)^```$/gm)) {
    for (const line of block[1]!.replace(/\\\n\s*/g, " ").split("\n")) {
      const command = stripComment(line).trim();
      if (command) found.push({ at: block.index!, command: { file, text: command, inline: false } });
    }
  }
  const prose = text.replace(/^```[\s\S]*?^```$/gm, (block) => " ".repeat(block.length));
  for (const span of prose.matchAll(/`((?:npm|npx|bun|deno|node|curl) [^`]+)`/g)) {
    found.push({ at: span.index!, command: { file, text: span[1]!, inline: true } });
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.command);
}

function stripComment(line: string): string {
  let quote = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/** Shell words of one simple command (quotes removed), and the simple commands of a line. */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|((?:\$\([^)]*\)|[^\s'"])+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}
function simpleCommands(line: string): string[] {
  const parts: string[] = [];
  let quote = "";
  let depth = 0; // inside $( )
  let current = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "$" && line[i + 1] === "(") depth++;
    else if (c === ")" && depth > 0) depth--;
    else if (depth === 0 && (c === "|" || c === ";" || c === "&")) {
      parts.push(current);
      current = "";
      if (line[i + 1] === c) i++;
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts.map((part) => part.replace(/\s+>\s*\S+$/, "").trim()).filter(Boolean);
}

/** The source files under `dir`; node_modules and test/.tmp (other tests' scratch files, made and removed meanwhile) left out. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return e.name === "node_modules" || e.name === ".tmp" ? [] : sources(join(dir, e.name));
    return e.isFile() && /\.(ts|mjs|js|example)$|\.env\.example$/.test(e.name) ? [readFileSync(join(dir, e.name), "utf8")] : [];
  });
}
const corpus = ["src", "examples", "test", "scripts", "bench"].flatMap((dir) => sources(join(root, dir))).join("\n");
const PROGRAMS = new Set(["npm", "npx", "node", "curl", "redis-server", "printf", "grep", "head", "git", "apt-get", "cd", "kill"]);
const UNPUBLISHED = /^(npm install|bun add) @background\/tasks$|^deno add jsr:@background\/tasks$/;

/** Problems with a command, found without running it (empty when it checks out). */
function check(command: Command): string[] {
  const problems: string[] = [];
  if (UNPUBLISHED.test(command.text)) {
    const text = readFileSync(join(root, command.file), "utf8");
    if (!/not (yet )?published|Not published yet|once published/i.test(text)) {
      problems.push("names the unpublished package without saying so");
    }
    return problems;
  }
  for (const part of simpleCommands(command.text)) {
    const tokens = words(part);
    while (tokens.length && /^[A-Z_][A-Z0-9_]*=/.test(tokens[0]!)) {
      const name = tokens.shift()!.split("=")[0]!;
      if (!corpus.includes(name)) problems.push(`sets ${name}, which nothing reads`);
    }
    const [program, ...args] = tokens;
    if (program === undefined) continue;
    if (program === "bun" || program === "deno") {
      if (!command.inline) {
        problems.push(`starts with \`${program}\`, which a machine with only Node and npm lacks: use \`npx ${program}\``);
      }
      continue;
    }
    if (!PROGRAMS.has(program)) {
      problems.push(`runs \`${program}\`, not a known program`);
      continue;
    }
    if (program === "npx" && !existsSync(bin(args[0]!))) {
      problems.push(`npx ${args[0]}: not in node_modules/.bin (add it to devDependencies)`);
    }
    if (program === "npm") {
      const [sub, ...rest] = args;
      if (sub === "run" && !(rest[0]! in pkg.scripts)) problems.push(`npm run ${rest[0]}: no such script`);
      if ((sub === "start" || sub === "test") && !(sub in pkg.scripts)) problems.push(`npm ${sub}: no such script`);
      if (sub === "test" && rest[0] === "--") {
        for (const word of rest.slice(1)) {
          if (!steps.some(([name, runtime]) => name.includes(word) || runtime === word)) {
            problems.push(`npm test -- ${word}: no step matches`);
          }
        }
      }
    }
    for (const arg of args) {
      const path = arg.replace(/^\.\//, "");
      if (!/^(examples|test|scripts|src|docs|bench|\.ci)\//.test(path)) continue;
      if (!exists(path)) problems.push(`${arg} does not exist`);
    }
  }
  return problems;
}

/** Whether a repository path exists; a `*` in the last part matches any characters. */
function exists(path: string): boolean {
  if (!path.includes("*")) return existsSync(join(root, path));
  const pattern = new RegExp(`^${path.split("/").pop()!.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`);
  return readdirSync(join(root, dirname(path))).some((name) => pattern.test(name));
}

const all = documents.flatMap(commandsOf);

describe("the commands in README.md and docs/*.md", () => {
  it("were found", () => {
    assert.ok(all.filter((c) => !c.inline).length >= 25, `${all.length} commands`);
    assert.ok(all.some((c) => c.file === "README.md" && c.text === "npm start"));
  });

  it("the README's first shell block needs only Node and npm, and names PORT and DATA_DIR", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const first = /^```sh\n([\s\S]*?)^```$/m.exec(readme)![1]!;
    const lines = first.split("\n").map((l) => stripComment(l).trim()).filter(Boolean);
    for (const line of lines) assert.doesNotMatch(line, /^(\w+=\S+\s+)*(bun|deno)\b/, line);
    assert.deepEqual(lines.map((l) => words(l).filter((w) => !w.includes("="))[0]), ["npm", "npm", "npm", "npm"]);
    assert.match(first, /\bPORT=/);
    assert.match(first, /\bDATA_DIR=/);
    assert.match(readme, /examples\/server\.ts/);
  });

  for (const file of documents) {
    const commands = all.filter((c) => c.file === file);
    if (commands.length === 0) continue;
    it(`${file}: every command checks out`, () => {
      const problems = commands.flatMap((c) => check(c).map((p) => `${c.text}\n    → ${p}`));
      assert.deepEqual(problems, []);
    });
  }
});

// Servers the documents start, with the PORT they set replaced by 0 and a fresh DATA_DIR.
const SERVER = /^(?:(?:PORT|DATA_DIR)=\S+\s+)*(?:npm start|npx (?:bun|deno|tsx) .*examples\/[\w-]+\.ts)$/;
const running: { kill(): void }[] = [];
const work = mkdtempSync(join(tmpdir(), "bg-doc-commands-"));
after(() => {
  for (const server of running) server.kill();
  rmSync(work, { recursive: true, force: true });
});

async function startServer(command: string): Promise<{ base: string; kill(): void }> {
  const dataDir = mkdtempSync(join(work, "data-"));
  const line = command.replace(/\bPORT=\S+\s+/, "").replace(/\bDATA_DIR=\S+\s+/, "");
  const child = spawn("bash", ["-c", `exec ${line}`], {
    cwd: root,
    env: { ...process.env, PATH: `${join(root, "node_modules/.bin")}:${process.env.PATH}`, PORT: "0", DATA_DIR: dataDir, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const kill = (): void => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone already
    }
  };
  running.push({ kill });
  let output = "";
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command}: no "listening on" within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace(/\/$/, ""));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${command} exited (${code}):\n${output}`)));
  });
  return { base, kill };
}

describe("the servers the documents start, and the curl commands after them", () => {
  for (const file of documents) {
    const commands = all.filter((c) => c.file === file && !c.inline);
    if (!commands.some((c) => SERVER.test(c.text.replace(/^npm run build && /, "")))) continue;
    it(file, { timeout: 120_000 }, async () => {
      let server: { base: string; kill(): void } | undefined;
      let uploadId: string | undefined;
      const ran: string[] = [];
      for (const { text } of commands) {
        const start = text.replace(/^npm run build && /, ""); // dist/ is built before the tests
        if (SERVER.test(start)) {
          server?.kill();
          server = await startServer(start);
          const probe = await fetch(`${server.base}/send-notification/ada@example.com`, { method: "POST" });
          assert.equal(probe.status, 200, `${text}: POST /send-notification answered ${probe.status}`);
          ran.push(text);
        } else if (server && /^(curl|printf) /.test(text) && /^curl .*(127\.0\.0\.1|localhost):3000|^printf /.test(text)) {
          const line = text
            .replace(/^curl /, "curl -sS --fail-with-body ")
            .replace(/http:\/\/(127\.0\.0\.1|localhost):3000\b/g, server.base)
            .replace("<id>", uploadId ?? "<id>");
          const result = spawnSync("bash", ["-c", line], { cwd: work, encoding: "utf8", timeout: 20_000 });
          assert.equal(result.status, 0, `${text}\n(ran: ${line})\n${result.stdout}${result.stderr}`);
          uploadId = /"id":"([0-9a-f-]{36})"/.exec(result.stdout)?.[1] ?? uploadId;
          ran.push(text);
        }
      }
      server?.kill();
      assert.ok(ran.length > 0);
    });
  }
});
