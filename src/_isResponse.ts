// Read once: Deno defines `Response` as a getter on the global object, so every mention of it
// in a request's path costs a getter call (about 40 ns each there).
const _NativeResponse: typeof Response | undefined = typeof Response === "function" ? Response : undefined;

/**
 * Whether `value` is a `Response`; also of a class that replaced the global `Response` after
 * this module loaded (a polyfill or an adapter's own). @internal
 */
export function _isResponse(value: unknown): value is Response {
  return (_NativeResponse !== undefined && value instanceof _NativeResponse) ||
    (typeof Response === "function" && Response !== _NativeResponse && value instanceof Response);
}
