// The example in durable mode at scale: two web processes and two workers
// (examples/worker.ts) share one Redis; one worker is killed with -9 in the
// middle of a burst of registrations. Every welcome mail reaches the local
// outbox exactly once (the task's idempotency key names the outbox entry and
// the Message-ID), and the dead worker's jobs run elsewhere within the bound
// its lock and stalled-check settings give.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type ExampleServer, startExample } from "./_exampleServer.ts";
import { bin } from "../fixtures/reliability/_harness.ts";
import { type Child, inspectQueue, type RedisServer, startChild, startRedis, unfinishedJobs, waitFor } from "../fixtures/bullmq/_setup.ts";

const LOCK_MS = 2_000;
const STALLED_MS = 1_000;
const MAILS = 300;
// Registrations stop here even when the kill has not come yet: the runner keeps the last 1,000
// completed jobs, and the test counts them.
const MAX_MAILS = 900;

/** The state letter of a process (R running, S sleeping, T stopped...), from /proc/<pid>/stat. */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

/** The active jobs' lock holders: job id → worker id (BullMQ's lock token is `<worker id>:<n>`). */
async function lockHolders(queue: ReturnType<typeof inspectQueue>): Promise<Map<string, string>> {
  const client = await queue.getBackend().client;
  const ids = await client.lrange(queue.toKey("active"), 0, -1);
  const tokens = await Promise.all(ids.map((id) => client.get(`${queue.toKey(id)}:lock`)));
  const holders = new Map<string, string>();
  ids.forEach((id, i) => tokens[i] && holders.set(id, tokens[i]!.slice(0, tokens[i]!.lastIndexOf(":"))));
  return holders;
}

describe("the example with two web processes and two workers, one killed (-9) mid-burst", { timeout: 180_000 }, () => {
  let redis: RedisServer;
  const webs: ExampleServer[] = [];
  const workers: Child[] = [];
  let queue: ReturnType<typeof inspectQueue> | undefined;

  before(async () => {
    redis = await startRedis();
    webs.push(...await Promise.all([startExample({ REDIS_URL: redis.url }), startExample({ REDIS_URL: redis.url })]));
    const env = {
      REDIS_URL: redis.url,
      DATA_DIR: webs[0]!.dataDir, // the workers' shared disk: the outbox is here
      MAIL_CONCURRENCY: "1", // each worker holds a backlog of locked jobs: the kill cuts some off
      WORKER_LOCK_DURATION_MS: String(LOCK_MS),
      WORKER_STALLED_INTERVAL_MS: String(STALLED_MS),
    };
    const start = (): Promise<Child> =>
      startChild([bin("bun"), ["run", "examples/worker.ts"]], { env, ready: /Worker (\d+) taking tasks/ });
    workers.push(...await Promise.all([start(), start()]));
  });
  after(async () => {
    await queue?.close();
    await Promise.all(workers.map((worker) => worker.stop()));
    await Promise.all(webs.map((web) => web.close()));
    await redis?.stop();
  });

  it("delivers every mail once and recovers the dead worker's jobs within lock + two stalled intervals", async (t) => {
    const outbox = join(webs[0]!.dataDir, "outbox");
    const delivered = (): string[] => {
      try {
        return readdirSync(outbox).filter((name) => name.endsWith(".json"));
      } catch {
        return [];
      }
    };
    const [victim, survivor] = workers as [Child, Child];
    const jobs = (queue = inspectQueue(redis.url, "background-tasks"));
    let killedAt = 0;
    // The kill must cut off running jobs. Whether the victim holds one at a given moment is up to
    // BullMQ (the other worker may have fetched the whole backlog), so the victim is frozen
    // (SIGSTOP: it can neither finish nor fetch a job) and Redis is asked which workers hold a job
    // lock (a lock's token starts with its worker's id). The victim's id is the one that held the
    // jobs the victim reports done. When the frozen victim holds a lock (or both workers' ids are
    // there), it is killed; otherwise it runs on and this is tried again.
    const seenHolders = new Map<string, string>(); // job id → worker id, from every look at Redis
    const look = async (): Promise<Map<string, string>> => {
      const holders = await lockHolders(jobs);
      for (const [job, worker] of holders) seenHolders.set(job, worker);
      return holders;
    };
    const victimId = (): string | undefined => {
      const votes = new Map<string, number>();
      for (const [, job] of victim.stdout().matchAll(/^\{.*"msg":"task done".*"job":"([^"]+)"\}$/gm)) {
        const worker = seenHolders.get(job!);
        if (worker !== undefined) votes.set(worker, (votes.get(worker) ?? 0) + 1);
      }
      return [...votes].sort((a, b) => b[1] - a[1])[0]?.[0];
    };
    let passedOver = 0; // checks at which the frozen victim held no job
    let killedFor = ""; // what showed the victim holding a job
    const victimHoldsJobs = async (): Promise<boolean> => {
      if (delivered().length < MAILS / 5) {
        await look();
        return false;
      }
      victim.process.kill("SIGSTOP");
      await waitFor("the victim to stop", () => processState(victim.process.pid!) === "T");
      await look(); // by its answer Redis has run what the victim sent before it stopped
      const holders = new Set((await look()).values());
      const id = victimId();
      if (id !== undefined && holders.has(id)) killedFor = "its own id";
      else if (holders.size === 2) killedFor = "both ids";
      if (killedFor) return true;
      victim.process.kill("SIGCONT");
      passedOver++;
      return false;
    };
    let killerDone = false;
    const killer = waitFor("a fifth of the mails, the victim holding jobs", victimHoldsJobs, 60_000).then(async () => {
      victim.process.kill("SIGKILL");
      await victim.exited;
      killedAt = Date.now();
    }).finally(() => (killerDone = true));

    // Registrations go on past MAILS until the kill (up to MAX_MAILS): an idle victim (the other
    // worker holding the whole backlog) fetches the new jobs, so it holds some again.
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < MAILS || (!killerDone && next < MAX_MAILS)) {
        const i = next++;
        const response = await fetch(`${webs[i % 2]!.base}/register`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: `user${i}@example.com`, username: `user${i}` }),
        });
        await response.arrayBuffer();
        statuses.push(response.status);
      }
    }));
    assert.deepEqual([...new Set(statuses)], [200]);
    await killer;
    const sent = next;

    await waitFor("every mail to be delivered", () => delivered().length >= sent, 60_000);
    await waitFor("the queue to settle", async () => (await unfinishedJobs(jobs)) === 0, 60_000);
    const completed = await jobs.getCompleted(0, sent + 10);
    assert.equal(completed.length, sent, "one job per registration");
    const takenOver = completed.filter((job) => job.stalledCounter > 0);
    assert.ok(takenOver.length > 0, "the kill cut off running jobs (otherwise this test proved nothing)");
    const recoveredMs = Math.max(...takenOver.map((job) => job.finishedOn!)) - killedAt;
    t.diagnostic(
      `${takenOver.length} jobs taken over; the last done ${recoveredMs} ms after the kill (killed on ${killedFor}, ${passedOver} checks passed over, ${sent} mails)`,
    );
    // The settings' bound (a stalled check holds the others off for one interval), plus running the job on a busy machine.
    const bound = LOCK_MS + 2 * STALLED_MS + 1_000;
    assert.ok(
      recoveredMs <= bound,
      `${takenOver.length} jobs taken over, the last done ${recoveredMs} ms after the kill (bound ${bound} ms)`,
    );

    const mails = delivered().map((name) => JSON.parse(readFileSync(join(outbox, name), "utf8")) as { to: string; messageId: string });
    assert.equal(mails.length, sent, "none twice in the outbox");
    assert.equal(new Set(mails.map((mail) => mail.to)).size, sent, "every address once");
    assert.equal(new Set(mails.map((mail) => mail.messageId)).size, sent, "one Message-ID per mail");
    assert.match(survivor.stdout(), /"task":"send-welcome-email"/);
  });
});
