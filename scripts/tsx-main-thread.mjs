// Preloaded (--import) into the Node test processes by scripts/test.mjs: tsx, for TypeScript, in the
// main thread only. Worker threads inherit the process's flags, so `--import tsx` would load tsx again
// in every thread the tests start, and the modules those threads run are plain JavaScript.
import { isMainThread } from "node:worker_threads";

if (isMainThread) await import("tsx");
