/**
 * The example server: FastAPI's three background-task examples (log, email,
 * CSV upload) on Elysia with @background/tasks, documented in Swagger UI.
 *
 *   bun run examples/server.ts        # or: npm start
 *   open http://127.0.0.1:3000/swagger
 *
 * Settings come from the environment; see examples/.env.example and
 * docs/example-server.md.
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { createApp } from "./app/app.ts";
import { config } from "./app/config.ts";
import { mailDelivery } from "./app/mail/mailer.ts";
import { allRunners, csvRunner, durableRunner, runner } from "./app/runner.ts";
import { exitGracefullyOnSignals } from "./app/shutdown.ts";
import { notificationLog } from "./app/tasks/writeLog.ts";
import { startUploadRetention } from "./app/uploads/retention.ts";
import { uploadsDir } from "./app/uploads/uploadJobs.ts";
import { watchForWorkers } from "./app/workerWatch.ts";
import { resendSpooledMail, spoolDir, spoolUnsentMail } from "./app/mail/mailSpool.ts";
import { startTelemetry } from "./app/telemetry.ts";

// Only when OTEL_* variables ask for it (docs/example-server.md): the SDK is not loaded otherwise.
const otel = await startTelemetry(runner);
await mkdir(uploadsDir, { recursive: true });
// Half-received uploads of a previous run are of no use.
for (const name of await readdir(uploadsDir)) if (name.endsWith(".part")) await rm(join(uploadsDir, name), { force: true });
await startUploadRetention(csvRunner); // the runner of the CSV task: its end frees an upload for the policy

const stopWatching = durableRunner === undefined ? undefined : watchForWorkers(durableRunner.queue, config.workerCheckMs);
const app = createApp().listen({ port: config.port, hostname: config.hostname });
// Handle signals before announcing the port: a supervisor may send SIGTERM as soon as it reads it.
exitGracefullyOnSignals({
  stopServer: () => app.stop(),
  runner: allRunners,
  timeoutMs: config.shutdownTimeoutMs,
  cleanup: async () => {
    stopWatching?.();
    const spooled = await spoolUnsentMail();
    if (spooled.length > 0) {
      console.log(`${spooled.length} accepted mail(s) not sent yet, kept in ${spoolDir} and sent at the next start:`);
      for (const mail of spooled) console.log(`  - ${mail}`);
    }
    await notificationLog.close();
    await otel?.shutdown();
  },
});

const url = `http://${config.hostname.includes(":") ? `[${config.hostname}]` : config.hostname}:${app.server!.port}`;
console.log(`Example server listening on ${url}`);
const queueName = durableRunner?.queue.name;
const work = durableRunner !== undefined
  ? `mail and log: durable, Redis ${maskUrl(process.env.REDIS_URL!)} queue "${queueName}" (run by npx bun run examples/worker.ts)`
  : `mail: ${mailDelivery === "smtp" ? "SMTP_URL" : `local outbox (${url}/outbox)`}`;
console.log(`  Swagger UI: ${url}/swagger   data: ${config.dataDir}   ${work}`);

if (otel !== undefined) {
  console.log(`  OpenTelemetry: traces ${otel.traces.join(", ") || "off"}; metrics ${otel.metrics ? `${url}/metrics (SDK)` : "off"}`);
}

// Mail spooled at the last shutdown deadline goes out now.
const resent = durableRunner !== undefined ? 0 : await resendSpooledMail(runner);
if (resent > 0) console.log(`  Sending ${resent} mail(s) spooled at the last shutdown (${spoolDir}).`);

/** The URL without its password (and user name): `redis://***@host:6379`. */
function maskUrl(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, "//***@");
}
