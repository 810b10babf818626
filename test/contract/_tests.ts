// The runtime contract of @background/tasks, written once (srvx's test/_tests.ts pattern)
// and run by test/e2e/contract.test.ts against every example on its real runtime.
// Each example serves the routes of examples/_contract.ts; tasks record what they do
// there, and GET /contract/events?id=... reads it back.
import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { expectKnownLimit } from "../fixtures/_knownLimit.ts";

/** One behaviour of the contract: a column of docs/compatibility.md. */
export interface Behaviour {
  readonly id: string;
  readonly title: string;
}

export const behaviours: readonly Behaviour[] = [
  { id: "example", title: "example route runs its task" },
  { id: "response-first", title: "response before task" },
  { id: "stream-first", title: "1 s stream ends before task starts" },
  { id: "sequential", title: "sequential by default" },
  { id: "parallel", title: "parallel opt-in" },
  { id: "failure", title: "failure reported, later tasks run" },
  { id: "timeout", title: "task past its limit reported" },
  { id: "disconnect", title: "disconnect: tasks run, see responseAborted" },
  { id: "handler-throws", title: "handler throws: same error, earlier tasks run" },
  { id: "spawn", title: "task adds a task" },
  { id: "bytes", title: "bytes unchanged (Content-Length kept)" },
  { id: "bytes-stream", title: "streamed bytes unchanged" },
  { id: "middleware", title: "task from middleware" },
];

export type Status = "pass" | "fail" | "known" | "n/a";

/** What one behaviour did on one target. */
export interface Outcome {
  readonly status: Status;
  /** Why it failed, or why it cannot hold there. */
  readonly note?: string;
}

export interface ContractTarget {
  /** The server's base URL, e.g. `http://127.0.0.1:1234`. */
  readonly url: string;
  /** Everything the server printed so far (stdout and stderr). */
  readonly output: () => string;
  /** Whether the router has middleware that adds a task (`/contract/middleware`). */
  readonly middleware?: boolean;
  /** Behaviours that cannot hold on this target, with the reason: run, but reported as known. */
  readonly known?: Readonly<Record<string, string>>;
  /** Receives each behaviour's outcome, for the compatibility table. */
  readonly report: (behaviour: string, outcome: Outcome) => void;
}

interface ContractEvent {
  seq: number;
  t: number;
  event: string;
  [detail: string]: unknown;
}

let counter = 0;
const uniqueId = (): string => `${process.pid}-${Date.now()}-${++counter}`;

/** Registers the contract's tests for one running server. */
export function addTests(target: ContractTarget): void {
  let url = ""; // read when the tests run: the server starts in a before() hook

  const events = async (id: string): Promise<ContractEvent[]> => {
    const response = await fetch(`${url}/contract/events?id=${id}`);
    assert.equal(response.status, 200);
    return await response.json() as ContractEvent[];
  };

  /** Polls the server's log until `name` was recorded (an event we await, not a sleep). */
  const waitFor = async (id: string, name: string, timeoutMs = 5_000): Promise<ContractEvent[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = await events(id);
      if (seen.some((e) => e.event === name)) return seen;
      if (Date.now() > deadline) {
        assert.fail(
          `"${name}" not recorded within ${timeoutMs} ms; recorded: ${seen.map((e) => e.event).join(", ") || "nothing"}; ` +
            `server output ends:\n${target.output().slice(-2_000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const at = (seen: ContractEvent[], name: string): ContractEvent => {
    const found = seen.find((e) => e.event === name);
    assert.ok(found, `"${name}" not recorded; recorded: ${seen.map((e) => e.event).join(", ")}`);
    return found;
  };
  const before = (seen: ContractEvent[], first: string, then: string): void => {
    assert.ok(at(seen, first).seq < at(seen, then).seq, `"${first}" should come before "${then}": ${seen.map((e) => e.event).join(", ")}`);
  };

  const behaviour = (id: string, fn: (() => Promise<void>) | undefined): void => {
    const known = target.known?.[id];
    const title = behaviours.find((b) => b.id === id)!.title;
    if (fn === undefined) {
      test(title, { skip: "not applicable" }, () => {});
      target.report(id, { status: "n/a" });
      return;
    }
    if (known !== undefined) {
      // Expected to fail there; passes while it does, and fails once the platform lets it hold.
      test(`${title} (known limit)`, async () => {
        url = target.url;
        await expectKnownLimit(known, fn);
        target.report(id, { status: "known", note: known });
      });
      return;
    }
    test(title, async () => {
      url = target.url;
      try {
        await fn();
      } catch (error) {
        target.report(id, { status: "fail", note: firstLine(error) });
        throw error;
      }
      target.report(id, { status: "pass" });
    });
  };

  behaviour("example", async () => {
    const response = await fetch(`${url}/send-notification/ada@example.com`, { method: "POST" });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { message: "Notification sent in the background" });
    const deadline = Date.now() + 5_000;
    while (!target.output().includes("[log] Sending notification to ada@example.com")) {
      if (Date.now() > deadline) assert.fail(`the example's writeLog task did not print; output:\n${target.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  behaviour("response-first", async () => {
    const id = uniqueId();
    const started = performance.now();
    const response = await fetch(`${url}/contract/slow-task?id=${id}`);
    await response.json();
    const elapsed = performance.now() - started;
    const right = await events(id);
    assert.ok(!right.some((e) => e.event === "slow:end"), "the 1 s task finished before the response was received");
    assert.ok(elapsed < 800, `the response took ${elapsed.toFixed(0)} ms: it waited for the 1 s task`);
    const seen = await waitFor(id, "slow:end");
    before(seen, "handler:return", "slow:start");
  });

  behaviour("stream-first", async () => {
    const id = uniqueId();
    const response = await fetch(`${url}/contract/stream?id=${id}`);
    const text = await response.text();
    assert.equal(text.split("\n").filter(Boolean).length, 10);
    const seen = await waitFor(id, "task:start");
    before(seen, "body:end", "task:start");
    const late = at(seen, "task:start").t - at(seen, "handler:return").t;
    assert.ok(late >= 900, `the task started ${late} ms after the handler returned, before the 1 s body ended`);
  });

  behaviour("sequential", async () => {
    const id = uniqueId();
    await (await fetch(`${url}/contract/order?id=${id}`)).text();
    const seen = await waitFor(id, "third:end");
    assert.deepEqual(
      seen.map((e) => e.event),
      ["first:start", "first:end", "second:start", "second:end", "third:start", "third:end"],
    );
  });

  behaviour("parallel", async () => {
    const id = uniqueId();
    await (await fetch(`${url}/contract/order?id=${id}`, { headers: { "x-contract-variant": "parallel" } })).text();
    await waitFor(id, "third:end");
    const seen = await waitFor(id, "first:end");
    before(seen, "first:start", "second:start");
    before(seen, "second:start", "third:start");
    before(seen, "third:start", "first:end"); // all three started before the 60 ms first one ended
  });

  behaviour("failure", async () => {
    const id = uniqueId();
    await (await fetch(`${url}/contract/fail?id=${id}`)).text();
    const seen = await waitFor(id, "after:end");
    before(seen, "before:end", "failingTask:start");
    before(seen, "failingTask:start", "onError");
    before(seen, "onError", "after:start");
    const report = at(seen, "onError");
    assert.equal(report.name, "failingTask");
    assert.equal(report.method, "GET");
    assert.match(String(report.url), new RegExp(`/contract/fail\\?id=${id}$`));
    assert.equal(report.attempt, 1);
    assert.equal(report.message, "contract failure");
    assert.ok(!target.output().includes("Unhandled"), "an unhandled rejection was printed");
  });

  behaviour("timeout", async () => {
    const id = uniqueId();
    await (await fetch(`${url}/contract/timeout?id=${id}`)).text();
    const seen = await waitFor(id, "onError");
    const report = at(seen, "onError");
    assert.equal(report.name, "outlivesLimit");
    assert.equal(report.timedOut, true);
    assert.equal(report.attempt, 1);
  });

  behaviour("disconnect", async () => {
    const id = uniqueId();
    await new Promise<void>((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.write(`GET /contract/endless?id=${id} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
      });
      let received = "";
      socket.on("data", (chunk) => {
        received += chunk.toString("latin1");
        if (received.includes("chunk 1")) {
          socket.destroy(); // the client leaves mid-body
          resolve();
        }
      });
      socket.on("error", reject);
    });
    // The 10 s body would end by itself; the task must start well before that.
    const seen = await waitFor(id, "task:start", 12_000);
    assert.equal(at(seen, "task:start").responseAborted, true, "the task did not see responseAborted");
  });

  behaviour("handler-throws", async () => {
    const id = uniqueId();
    const wrapped = await rawGet(url, `/contract/throw?id=${id}`);
    const bare = await rawGet(url, `/contract/throw?id=${id}-bare`, { "x-contract-variant": "bare" });
    assert.equal(wrapped.statusLine, bare.statusLine);
    assert.deepEqual(headerNames(wrapped.headers), headerNames(bare.headers));
    assert.equal(firstLine(wrapped.body.toString()), firstLine(bare.body.toString()));
    await waitFor(id, "beforeThrow:end");
  });

  behaviour("spawn", async () => {
    const id = uniqueId();
    await (await fetch(`${url}/contract/spawn?id=${id}`)).text();
    const seen = await waitFor(id, "child:end");
    before(seen, "parent:start", "parent:end");
    before(seen, "parent:end", "child:start");
  });

  for (const [name, path] of [["bytes", "/contract/bytes"], ["bytes-stream", "/contract/bytes-stream"]] as const) {
    behaviour(name, async () => {
      const id = uniqueId();
      const wrapped = await rawGet(url, `${path}?id=${id}`);
      const bare = await rawGet(url, `${path}?id=${id}`, { "x-contract-variant": "bare" });
      assert.equal(wrapped.statusLine, bare.statusLine);
      assert.deepEqual(withoutDate(wrapped.headers), withoutDate(bare.headers));
      assert.deepEqual(wrapped.body, bare.body);
      if (name === "bytes") {
        assert.match(wrapped.statusLine, /^HTTP\/1\.1 201 /);
        assert.ok(wrapped.headers.some((h) => /^content-length: 12$/i.test(h)), `no Content-Length: ${wrapped.headers.join(" | ")}`);
        assert.ok(!wrapped.headers.some((h) => /^transfer-encoding:/i.test(h)), `switched to chunked: ${wrapped.headers.join(" | ")}`);
      }
      await waitFor(id, "task:end");
    });
  }

  behaviour(
    "middleware",
    target.middleware
      ? async () => {
        const id = uniqueId();
        await (await fetch(`${url}/contract/middleware?id=${id}`)).text();
        const seen = await waitFor(id, "route:end");
        assert.deepEqual(seen.map((e) => e.event), ["middleware:task", "route:start", "route:end"]);
      }
      : undefined,
  );
}

interface RawResponse {
  statusLine: string;
  headers: string[];
  body: Buffer;
}

/**
 * A GET over a plain TCP socket: the bytes exactly as the server wrote them. Ends at the
 * end of the response (Content-Length reached, last chunk, or the server closing).
 */
export function rawGet(base: string, path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    let all = Buffer.alloc(0);
    let done = false;
    const finish = (): void => {
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) return reject(new Error(`incomplete response to ${path}: ${all.toString("latin1")}`));
      const [statusLine = "", ...headerLines] = all.subarray(0, end).toString("latin1").split("\r\n");
      done = true;
      socket.destroy();
      resolve({ statusLine, headers: headerLines, body: all.subarray(end + 4) });
    };
    const complete = (): boolean => {
      const end = all.indexOf("\r\n\r\n");
      if (end < 0) return false;
      const head = all.subarray(0, end).toString("latin1");
      const body = all.subarray(end + 4);
      const length = head.match(/\r\ncontent-length: *(\d+)/i);
      if (length) return body.length >= Number(length[1]);
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) return body.subarray(-5).toString("latin1") === "0\r\n\r\n";
      return false; // ends when the server closes
    };
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      // write, not end: a half-closed socket reads as a client that left (Deno then cuts the body).
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n${extra}\r\n`);
    });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no complete response to ${path} within 10 s`)));
    socket.on("data", (chunk: Buffer) => {
      all = Buffer.concat([all, chunk]);
      if (complete()) finish();
    });
    socket.on("error", (error) => {
      if (!done) reject(error);
    });
    socket.on("close", () => {
      if (!done) finish();
    });
  });
}

const withoutDate = (headers: string[]): string[] => headers.filter((h) => !/^date:/i.test(h));
const headerNames = (headers: string[]): string[] => withoutDate(headers).map((h) => h.split(":")[0]!.toLowerCase());
function firstLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "";
}
