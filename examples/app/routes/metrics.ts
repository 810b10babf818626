/**
 * `GET /metrics`: the task metrics in Prometheus text format. With `OTEL_METRICS_EXPORTER=prometheus`
 * they come from the OpenTelemetry metrics SDK (per task name, with duration and queue-wait
 * histograms, see telemetry.ts); otherwise from the runner's counters.
 */
import { Elysia } from "elysia";
import type { TaskRunnerStats } from "@background/tasks";
import { allRunners } from "../runner.ts";
import { telemetry } from "../telemetry.ts";

const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

const counters: [keyof TaskRunnerStats, string][] = [
  ["succeeded", "Tasks that finished without error."],
  ["failed", "Tasks that failed after their last attempt."],
  ["timedOut", "Attempts that timed out."],
  ["retried", "Retries scheduled after a failed or timed-out attempt."],
  ["dropped", "Tasks not accepted because the runner was full."],
  ["skipped", "Accepted tasks that were never started."],
];
const gauges: [keyof TaskRunnerStats, string][] = [
  ["waiting", "Accepted tasks waiting for their response to be sent or an earlier task of their request."],
  ["queued", "Tasks ready to run, waiting for a free slot or a retry delay."],
  ["running", "Attempts running now."],
];

/** The runner's counters in Prometheus text format. */
export function statsText(stats: TaskRunnerStats): string {
  const lines: string[] = [];
  const snake = (key: string): string => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  for (const [key, help] of counters) {
    const name = `background_tasks_${snake(key)}_total`;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${stats[key]}`);
  }
  for (const [key, help] of gauges) {
    const name = `background_tasks_${key}`;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${stats[key]}`);
  }
  return lines.join("\n") + "\n";
}

export const metricsRoutes = new Elysia({ name: "routes/metrics" })
  .get("/metrics", async () => {
    const text = (await telemetry()?.metricsText()) ?? statsText(allRunners.stats());
    return new Response(text, { headers: { "content-type": PROMETHEUS_TEXT } });
  }, { detail: { hide: true } });
