import type { BackgroundTasks } from "../BackgroundTasks.ts";
import { _ABORTED } from "./_signal.ts";

/**
 * When the platform gives no signal: the body itself. A `null` body counts
 * as sent on the next macrotask (its own timer: on Workers a timer belongs
 * to the request that set it). A stream body is passed through a stream
 * that starts the tasks once its last chunk has been read, or it was
 * cancelled (the client left).
 * @internal
 */
export function _watchBody(tasks: BackgroundTasks, response: Response): Response {
  const body = response.body;
  if (body === null) {
    setTimeout(() => tasks.start(), 0);
    return response;
  }
  return new Response(_trackBody(body, tasks), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

function _trackBody(body: ReadableStream<Uint8Array>, tasks: BackgroundTasks): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  const finish = (responseAborted: boolean): void => {
    if (finished) return;
    finished = true;
    setTimeout(() => tasks.start(responseAborted ? _ABORTED : undefined), 0);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        finish(true);
        controller.error(error);
        return;
      }
      if (chunk.done) {
        controller.close();
        finish(false);
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel(reason) {
      finish(true);
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
