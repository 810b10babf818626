/**
 * Durable mode's watch for a missing worker: the web server only stores jobs,
 * so with no worker running requests answer 200 and nothing happens. Every
 * `WORKER_CHECK_MS` it asks Redis how many jobs wait and how many workers are
 * connected; when jobs have waited through two checks with no worker, it
 * warns once (stderr and `GET /tasks`), and says so again when a worker is back.
 */
import type { Queue } from "bullmq";
import { clearWarning, raiseWarning } from "./taskReports.ts";

const WARNING = "no-worker";

/** Starts watching `queue`; the returned function stops it. */
export function watchForWorkers(queue: Queue, intervalMs: number): () => void {
  let waitingSince: number | undefined;
  let warned = false;
  let checking = false;
  const check = async (): Promise<void> => {
    if (checking) return;
    checking = true;
    try {
      const [workers, counts] = await Promise.all([queue.getWorkersCount(), queue.getJobCounts("waiting", "prioritized")]);
      const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
      if (workers > 0 || waiting === 0) {
        waitingSince = undefined;
        if (warned) {
          warned = false;
          clearWarning(WARNING);
          console.error(`A worker is taking jobs from the queue "${queue.name}" again.`);
        }
        return;
      }
      const now = Date.now();
      waitingSince ??= now;
      if (warned || now - waitingSince < intervalMs) return;
      warned = true;
      const message = `No worker has taken jobs from the queue "${queue.name}" for ${Math.round((now - waitingSince) / 1000)} s or more: ` +
        `${waiting} job(s) waiting and no worker connected. Start one with the same REDIS_URL: npx bun run examples/worker.ts`;
      raiseWarning(WARNING, message);
      console.error(message);
    } catch {
      // Redis is unreachable: the runner already said so, once.
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(check, intervalMs);
  timer.unref?.();
  return () => clearInterval(timer);
}
