// The no-op task of bench/worker/pools.mjs.
export default function noop() {
  return 1;
}
