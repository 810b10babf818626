// Fallback load generator when wrk is missing: autocannon in its own process (pinned by the caller).
import autocannon from "autocannon";
import { readFileSync } from "node:fs";

const o = JSON.parse(process.argv[2]);
const result = await autocannon({
  url: o.url,
  connections: o.connections,
  duration: o.durationS,
  method: o.method,
  body: o.bodyFile ? readFileSync(o.bodyFile) : undefined,
  headers: o.contentType ? { "content-type": o.contentType } : {},
  timeout: o.timeoutS,
  // autocannon paces by overall rate rather than per-connection delay.
  overallRate: o.delayMs > 0 ? Math.round((o.connections * 1000) / o.delayMs) : undefined,
});
const lat = result.latency;
console.log(
  "AUTOCANNON_JSON " + JSON.stringify({
    rps: (result.requests.total - result.non2xx) / (result.duration || o.durationS),
    rpsAll: result.requests.total / (result.duration || o.durationS),
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    latencyMs: { mean: lat.average, p50: lat.p50, p90: lat.p90, p99: lat.p99, max: lat.max },
  }),
);
