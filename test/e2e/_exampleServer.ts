// Starts examples/server.ts under Bun as a child process with its own DATA_DIR
// and a free port, and collects its output. Used by test/e2e/example-*.test.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const root = new URL("../..", import.meta.url).pathname;
export const bun = join(root, "node_modules/.bin/bun");

export interface ExampleServer {
  readonly base: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the output once it matches `pattern`; rejects after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` to the server's process group (npm, its shell and Bun alike). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kills the server (if still running) and removes its DATA_DIR. */
  close(): Promise<void>;
}

/** Starts the example with PORT=0, a fresh DATA_DIR, and `env` on top of a clean environment. */
export async function startExample(
  env: Record<string, string> = {},
  options: { command?: string[]; cwd?: string } = {},
): Promise<ExampleServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "bg-example-"));
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([key]) =>
      !/^(PORT|HOST|DATA_DIR|REDIS_URL|SMTP_URL|MAIL_|RETRY_|MAX_UPLOAD|TASK_|SHUTDOWN_|SMTP_)/.test(key)
    ),
  );
  const [command, ...args] = options.command ?? [bun, "run", "examples/server.ts"];
  const child = spawn(command!, args, {
    cwd: options.cwd ?? root,
    env: { ...clean, PORT: "0", DATA_DIR: dataDir, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group, so `npm start`'s grandchild gets signals too
  });
  let text = "";
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer): void => {
    text += chunk.toString("utf8");
    for (const listener of listeners) listener();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
      for (const listener of listeners) listener();
    })
  );
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  // The output ends when every process that holds the pipes has exited: with `npm start`, npm may
  // exit on a signal before the server it started has printed its last lines.
  let openStreams = 2;
  const streamEnded = (): void => {
    openStreams--;
    for (const listener of listeners) listener();
  };
  child.stdout!.once("close", streamEnded);
  child.stderr!.once("close", streamEnded);

  const waitForOutput = (pattern: RegExp, timeoutMs = 15_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(text)) {
          done();
          resolve(text);
        } else if (openStreams === 0) {
          done();
          reject(new Error(`the server exited before printing ${pattern}; output:\n${text}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${text}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });

  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  const close = async (): Promise<void> => {
    signal("SIGKILL");
    if (!exitedYet) await exited;
    await rm(dataDir, { recursive: true, force: true });
  };

  try {
    const started = await waitForOutput(/listening on (http:\/\/\S+)/);
    const base = /listening on (http:\/\/\S+)/.exec(started)![1]!;
    return { base, dataDir, child, output: () => text, waitForOutput, signal, exited, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Polls `probe` every 20 ms until it returns a value other than `undefined`, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
