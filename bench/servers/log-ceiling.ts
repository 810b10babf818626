// The ceiling for the seed's log endpoint on this machine: a bare Bun.serve that answers every
// request with the endpoint's JSON and does nothing else (no routing, validation, log line or
// task). No server on Bun answering that endpoint can be faster than this.
import { serve } from "./serve.ts";

const body = JSON.stringify({ message: "Notification sent in the background" });
await serve(() => new Response(body, { headers: { "content-type": "application/json" } }));
