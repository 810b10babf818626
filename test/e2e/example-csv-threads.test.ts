// The example's CSV task on a worker thread (the default) and on the server's own
// thread (CSV_THREADS=0): a real server, real uploads, the job status reaching
// `done` with the right row count or `failed` with the line and reason. Where the
// parsing ran is read from the kernel: the CPU time of the server's main thread
// and of its worker threads (the ones at niceness 19, which WorkerTaskRunner's
// threads give themselves on Linux).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { eventually, type ExampleServer, startExample } from "./_exampleServer.ts";

const ROWS = 150_000; // about 8 MB: a few hundred ms of parsing, far more than receiving it costs
const csv = "id,name,email,score\n" +
  Array.from({ length: ROWS }, (_, i) => `${i},user ${i},user${i}@example.com,${i % 100}`).join("\n") + "\n";

/** CPU time (ms) of the server's main thread and of its threads at niceness 19. */
function threadCpu(pid: number): { main: number; niced: number; nicedThreads: number } {
  const tick = 10; // USER_HZ is 100 on Linux
  let main = 0;
  let niced = 0;
  let nicedThreads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpu = (Number(fields[11]) + Number(fields[12])) * tick;
    if (Number(tid) === pid) main = cpu;
    else if (Number(fields[16]) === 19) {
      niced += cpu;
      nicedThreads++;
    }
  }
  return { main, niced, nicedThreads };
}

async function upload(server: ExampleServer, content: string, filename = "data.csv"): Promise<string> {
  const form = new FormData();
  form.set("file", new Blob([content], { type: "text/csv" }), filename);
  const response = await fetch(`${server.base}/upload`, { method: "POST", body: form });
  const body = await response.json();
  assert.equal(response.status, 202, JSON.stringify(body));
  return body.id;
}

async function finished(server: ExampleServer, id: string): Promise<any> {
  return eventually(
    async () => {
      const job = await (await fetch(`${server.base}/uploads/${id}`)).json();
      return job.status === "done" || job.status === "failed" ? job : undefined;
    },
    `upload ${id} to finish`,
    30_000,
  );
}

for (
  const mode of [
    { name: "on a worker thread (default)", env: {}, onWorker: true },
    { name: "in-process (CSV_THREADS=0)", env: { CSV_THREADS: "0" }, onWorker: false },
  ]
) {
  describe(`the CSV task ${mode.name}`, () => {
    let server: ExampleServer;
    before(async () => {
      server = await startExample(mode.env);
    });
    after(async () => {
      await server?.close();
    });

    test("a CSV reaches done with its row count and columns, parsed where configured", async () => {
      const pid = server.child.pid!;
      const before = threadCpu(pid);
      const job = await finished(server, await upload(server, csv));
      const after = threadCpu(pid);
      assert.equal(job.status, "done", JSON.stringify(job.error));
      assert.equal(job.rows, ROWS);
      assert.deepEqual(job.columns, ["id", "name", "email", "score"]);
      assert.equal(job.columnCount, 4);
      const main = after.main - before.main;
      const worker = after.niced - before.niced;
      console.log(`# CPU while parsing ${ROWS} rows: main thread ${main} ms, worker threads ${worker} ms`);
      if (mode.onWorker) {
        assert.ok(after.nicedThreads >= 1, "no worker thread at niceness 19");
        assert.ok(worker > main, `the worker threads used ${worker} ms of CPU, the main thread ${main} ms`);
      } else {
        assert.equal(after.nicedThreads, 0, "CSV_THREADS=0 must start no worker thread");
        assert.ok(main >= 100, `the main thread used ${main} ms of CPU for the parse`);
      }
    });

    test("a malformed CSV fails with the line and reason", async () => {
      const job = await finished(server, await upload(server, "a,b\n1,2\n3\n4,5\n"));
      assert.equal(job.status, "failed");
      assert.equal(job.error.line, 3);
      assert.match(job.error.reason, /Invalid Record Length/);
      assert.equal(job.rows, 1);
    });

    test("GET /tasks counts the CSV tasks", async () => {
      const { stats } = await (await fetch(`${server.base}/tasks`)).json();
      // The malformed file is a result, not a task failure. On threads each upload is also a
      // hand-over task on the server's runner, so the parse starts after the response.
      assert.equal(stats.succeeded, mode.onWorker ? 4 : 2, JSON.stringify(stats));
      assert.equal(stats.failed, 0);
    });
  });
}

describe("the CSV task on a worker thread, past TASK_TIMEOUT_MS", () => {
  let server: ExampleServer;
  before(async () => {
    server = await startExample({ TASK_TIMEOUT_MS: "50" });
  });
  after(async () => {
    await server?.close();
  });

  test("the job fails with the timeout as its reason, and GET /tasks reports it", async () => {
    const big = csv.repeat(4); // the header again inside is a record like the others: 4 columns
    const job = await finished(server, await upload(server, big));
    assert.equal(job.status, "failed", `the job ended ${job.status} with ${job.rows} rows; the file must take longer than 50 ms`);
    assert.equal(job.error.line, undefined);
    assert.match(job.error.reason, /50 ms|timed out/i);
    const { stats, recentFailures } = await (await fetch(`${server.base}/tasks`)).json();
    assert.equal(stats.timedOut, 1, JSON.stringify(stats));
    assert.equal(recentFailures[0].task, "process-csv");
  });
});
