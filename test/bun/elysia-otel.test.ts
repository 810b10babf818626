// instrumentTasks beside @elysiajs/opentelemetry on a real Bun server: the plugin's request span
// continues the caller's traceparent, and the task's span (instrumentTasks) is linked to it.
import { afterAll, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { opentelemetry } from "@elysiajs/opentelemetry";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { TaskRunner } from "@background/tasks";
import { backgroundTasks } from "@background/tasks/elysia";
import { instrumentTasks } from "@background/tasks/otel";

const spans = new InMemorySpanExporter();
let taskSpanEnded!: (span: ReadableSpan) => void;
const taskSpan = new Promise<ReadableSpan>((resolve) => (taskSpanEnded = resolve));
const provider = new TracerProvider({
  spanProcessors: [new SimpleSpanProcessor({ exporter: spans }), {
    onStart() {},
    onEnd(span: ReadableSpan) {
      if (span.name === "sendWelcomeEmail") taskSpanEnded(span);
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  }],
});
// Registered before the plugin is made, so it uses this provider instead of starting the Node SDK.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
trace.setGlobalTracerProvider(provider);

const runner = new TaskRunner();
const stop = instrumentTasks(runner, { meterProvider: false });
async function sendWelcomeEmail(_to: string): Promise<void> {}
const app = new Elysia()
  .use(opentelemetry({ serviceName: "test" }))
  .use(backgroundTasks(runner))
  .post("/register", ({ backgroundTasks }) => {
    backgroundTasks.addTask(sendWelcomeEmail, "ada@example.com");
    return { message: "registered" };
  })
  .listen({ port: 0, hostname: "127.0.0.1" });

afterAll(async () => {
  stop();
  await app.stop(true);
  await provider.shutdown();
});

test("the task's span links to @elysiajs/opentelemetry's request span, in the caller's trace", async () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const response = await fetch(`http://127.0.0.1:${app.server!.port}/register`, {
    method: "POST",
    headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
  });
  expect(await response.json()).toEqual({ message: "registered" });
  const span = await taskSpan;
  await provider.forceFlush();
  const link = span.links[0]?.context;
  expect(link?.traceId).toBe(traceId);
  const requestSpan = spans.getFinishedSpans().find((finished) => finished.spanContext().spanId === link?.spanId);
  expect(requestSpan?.instrumentationScope.name).toBe("test"); // the plugin's tracer
  expect(requestSpan?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
  expect(span.parentSpanContext).toBeUndefined();
  expect(span.attributes["background_task.outcome"]).toBe("success");
});
