// Small statistics helpers: every figure the suite reports is a median with its min–max.

/** @param {number[]} values @returns {{ median: number, min: number, max: number, n: number, values: number[] }} */
export function summarize(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, n: 0, values };
  const mid = n >> 1;
  const median = n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[n - 1], n, values };
}

/** Ratios of paired runs (b[i] / a[i]), so drift of the machine cancels within a pair. */
export function pairedRatios(a, b) {
  const out = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) out.push(b[i] / a[i]);
  return summarize(out);
}

export const round = (value, digits = 3) => Number.isFinite(value) ? Number(value.toPrecision(digits)) : value;

/** "1.23 (1.10–1.31)" */
export function fmt(summary, digits = 3, unit = "") {
  if (!summary || !Number.isFinite(summary.median)) return "n/a";
  const f = (v) => formatNumber(v, digits) + unit;
  return `${f(summary.median)} (${f(summary.min)}–${f(summary.max)})`;
}

export function formatNumber(value, digits = 3) {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6) return (value / 1e6).toPrecision(digits) + " M";
  if (abs >= 1e4) return (value / 1e3).toPrecision(digits) + " k";
  return String(Number(value.toPrecision(digits)));
}
