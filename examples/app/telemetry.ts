/**
 * OpenTelemetry for the example, turned on by the standard environment variables and loaded only
 * then, so the default start stays fast:
 *
 * - `OTEL_TRACES_EXPORTER=console` prints spans; `otlp` (or `OTEL_EXPORTER_OTLP_ENDPOINT` /
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` set) sends them to a collector over OTLP/HTTP.
 * - `OTEL_METRICS_EXPORTER=prometheus` records the task metrics with the metrics SDK; `GET /metrics`
 *   serves them. Without it `GET /metrics` serves the runner's counters.
 * - `OTEL_SDK_DISABLED=true` turns everything off; `OTEL_SERVICE_NAME` names the service.
 *
 * Each request gets a server span that continues the caller's W3C `traceparent`; each task
 * attempt gets a span linked to it (`@background/tasks/otel`).
 */
import type { TaskRunner } from "@background/tasks";
import { Elysia } from "elysia";

/** What was turned on. */
export interface Telemetry {
  readonly traces: readonly string[];
  readonly metrics: boolean;
  /** The metrics in Prometheus text format, or `undefined` when the metrics SDK is off. */
  metricsText(): Promise<string | undefined>;
  /** A plugin that gives each request a server span continuing its `traceparent` (nothing when traces are off). */
  readonly requestSpans: Elysia;
  /** Flushes and stops the exporters. */
  shutdown(): Promise<void>;
}

type Env = Record<string, string | undefined>;

function list(value: string | undefined): string[] {
  return (value ?? "").split(",").map((item) => item.trim().toLowerCase()).filter((item) => item !== "");
}

/** The trace exporters and whether metrics are on, from the environment. */
export function telemetrySettings(env: Env = process.env): { traces: string[]; metrics: boolean } {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === "true") return { traces: [], metrics: false };
  let traces = list(env.OTEL_TRACES_EXPORTER);
  if (traces.length === 0 && (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) traces = ["otlp"];
  traces = traces.filter((name) => name !== "none");
  for (const name of traces) {
    if (name !== "console" && name !== "otlp") {
      throw new Error(`OTEL_TRACES_EXPORTER: "${name}" is not supported by the example; use console, otlp or none.`);
    }
  }
  const metricExporters = list(env.OTEL_METRICS_EXPORTER).filter((name) => name !== "none");
  for (const name of metricExporters) {
    if (name !== "prometheus") {
      throw new Error(`OTEL_METRICS_EXPORTER: "${name}" is not supported by the example; use prometheus (served at GET /metrics) or none.`);
    }
  }
  return { traces, metrics: metricExporters.length > 0 };
}

let current: Telemetry | undefined;

/** The telemetry started by {@link startTelemetry}, if any. */
export function telemetry(): Telemetry | undefined {
  return current;
}

/**
 * Starts tracing and metrics for `runner` when the environment asks for them.
 *
 * @returns what was started, or `undefined` when nothing was asked for
 */
export async function startTelemetry(runner: TaskRunner, env: Env = process.env): Promise<Telemetry | undefined> {
  const settings = telemetrySettings(env);
  if (settings.traces.length === 0 && !settings.metrics) return undefined;
  const api = await import("@opentelemetry/api");
  const { instrumentTasks } = await import("@background/tasks/otel");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");
  const resource = resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME ?? "background-tasks-example" });
  const stops: (() => Promise<void> | void)[] = [];

  let tracerProvider: import("@opentelemetry/api").TracerProvider | false = false;
  if (settings.traces.length > 0) {
    const { AsyncLocalStorageContextManager } = await import("@opentelemetry/context-async-hooks");
    const { W3CTraceContextPropagator } = await import("@opentelemetry/core");
    const sdk = await import("@opentelemetry/sdk-trace");
    const spanProcessors: import("@opentelemetry/sdk-trace").SpanProcessor[] = [];
    if (settings.traces.includes("console")) spanProcessors.push(new sdk.SimpleSpanProcessor({ exporter: new sdk.ConsoleSpanExporter() }));
    if (settings.traces.includes("otlp")) {
      const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
      spanProcessors.push(new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter() })); // reads OTEL_EXPORTER_OTLP_*
    }
    const provider = new sdk.TracerProvider({ resource, spanProcessors });
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    api.trace.setGlobalTracerProvider(provider);
    tracerProvider = provider;
    stops.push(() => provider.shutdown());
  }

  let metricsText = (): Promise<string | undefined> => Promise.resolve(undefined);
  let meterProvider: import("@opentelemetry/api").MeterProvider | false = false;
  if (settings.metrics) {
    const { MeterProvider, MetricReader } = await import("@opentelemetry/sdk-metrics");
    const { PrometheusSerializer } = await import("@opentelemetry/exporter-prometheus");
    // A reader that only answers when asked: GET /metrics collects.
    class PullReader extends MetricReader {
      protected override onForceFlush(): Promise<void> {
        return Promise.resolve();
      }
      protected override onShutdown(): Promise<void> {
        return Promise.resolve();
      }
    }
    const reader = new PullReader();
    const provider = new MeterProvider({ resource, readers: [reader] });
    const serializer = new PrometheusSerializer(undefined, false, undefined, true, true);
    metricsText = async () => serializer.serialize((await reader.collect()).resourceMetrics);
    meterProvider = provider;
    stops.push(() => provider.shutdown());
  }

  const stopTasks = instrumentTasks(runner, { tracerProvider, meterProvider });
  const tracer = tracerProvider === false ? undefined : tracerProvider.getTracer("background-tasks-example");
  const requestSpans = new Elysia({ name: "request-spans" });
  if (tracer !== undefined) {
    requestSpans.wrap((fn, request) => {
      const parent = api.propagation.extract(api.context.active(), request.headers, {
        get: (headers, key) => headers.get(key) ?? undefined,
        keys: (headers) => [...headers.keys()],
      });
      const url = new URL(request.url);
      // Named by the method alone: the path holds addresses, and the route is not known here.
      const span = tracer.startSpan(request.method, {
        kind: api.SpanKind.SERVER,
        attributes: { "http.request.method": request.method, "url.path": url.pathname },
      }, parent);
      const active = api.trace.setSpan(parent, span);
      return ((...args: unknown[]) =>
        api.context.with(active, async () => {
          try {
            const response = (await (fn as (...a: unknown[]) => unknown)(...args)) as Response;
            span.setAttribute("http.response.status_code", response.status);
            if (response.status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
            return response;
          } catch (error) {
            span.recordException(error as Error);
            span.setStatus({ code: api.SpanStatusCode.ERROR });
            throw error;
          } finally {
            span.end(); // the response is ready: the request's span does not wait for its tasks
          }
        })) as never;
    });
  }

  current = {
    traces: settings.traces,
    metrics: settings.metrics,
    metricsText,
    requestSpans,
    async shutdown() {
      stopTasks();
      for (const stop of stops) await stop();
    },
  };
  return current;
}
