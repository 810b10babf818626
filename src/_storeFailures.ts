/**
 * The log of a durable runner that cannot store tasks: one line when requests
 * start getting 503 for it, one when storing works again, none per request
 * in between (an outage can refuse thousands).
 */

let refused = 0;

/** Records one request answered 503 because its tasks could not be stored. */
export function _reportStoreFailure(error: unknown): void {
  if (refused++ > 0) return;
  console.error(`[background-tasks] could not store a request's tasks; answering 503 until storing works again: ${_oneLine(error)}`);
}

/** Records tasks stored; after a run of failures, says that it works again. */
export function _storeWorks(): void {
  if (refused === 0) return;
  console.error(`[background-tasks] storing tasks works again; ${refused} request(s) were answered 503 meanwhile.`);
  refused = 0;
}

function _oneLine(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  return `${error.name}: ${error.message}${cause}`;
}
