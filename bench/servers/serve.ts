// Serves a Fetch handler on whichever runtime runs this file: Bun.serve, Deno.serve, or Node's
// node:http through @hono/node-server. Listens on 127.0.0.1:$PORT.
type Handler = (request: Request, ...rest: any[]) => Response | Promise<Response>;

declare const Bun: any;
declare const Deno: any;

export const runtimeName: string = typeof Bun !== "undefined" ? "bun" : typeof Deno !== "undefined" ? "deno" : "node";

export async function serve(fetch: Handler): Promise<void> {
  // A signal ends the process normally, so a sampling profiler (--cpu-prof) can write its profile.
  if (runtimeName === "deno") { for (const signal of ["SIGINT", "SIGTERM"]) Deno.addSignalListener(signal, () => Deno.exit(0)); }
  else for (const signal of ["SIGINT", "SIGTERM"]) (globalThis as any).process.on(signal, () => (globalThis as any).process.exit(0));
  const port = Number((globalThis as any).process?.env?.PORT ?? Deno?.env.get("PORT") ?? 3000);
  if (runtimeName === "bun") {
    Bun.serve({ port, hostname: "127.0.0.1", fetch });
  } else if (runtimeName === "deno") {
    Deno.serve({ port, hostname: "127.0.0.1", onListen() {} }, fetch);
  } else {
    const { serve: nodeServe } = await import("@hono/node-server");
    nodeServe({ fetch, port, hostname: "127.0.0.1" });
  }
}
