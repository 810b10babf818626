// Renders the headline comparisons as one SVG (no dependencies): a panel per group, a bar per
// comparison at its median, a whisker from min to max, and the goal as a dashed line.
import { groups } from "./summary.mjs";
import { formatNumber } from "./stats.mjs";

const W = 1100;
const LABEL_W = 300;
const BAR_X = LABEL_W + 10;
const BAR_W = 420;
const ROW = 24;
const escape = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

export function renderChart(results) {
  const byGroup = new Map();
  for (const h of results.headlines ?? []) {
    if (!byGroup.has(h.group)) byGroup.set(h.group, []);
    byGroup.get(h.group).push(h);
  }
  const parts = [];
  let y = 20;
  const { meta } = results;
  parts.push(`<text x="10" y="${y}" class="t">@background/tasks benchmarks, ${escape(meta.date.slice(0, 10))}</text>`);
  y += 16;
  parts.push(
    `<text x="10" y="${y}" class="f">${meta.machine.cores} shared cores. Bar = median, whisker = min–max over ${meta.settings.pairs} interleaved rounds, dashed line = goal. Green: goal met, red: not met, amber: rounds fell on both sides of the goal, blue: no goal.</text>`,
  );
  for (const [group, rows] of byGroup) {
    y += 22;
    parts.push(`<text x="10" y="${y}" class="g">${escape(groups[group] ?? group)}</text>`);
    y += 8;
    const top = Math.max(...rows.flatMap((r) => [r.value.max, r.goal?.value ?? 0]));
    const scale = BAR_W / (top * 1.08 || 1);
    for (const row of rows) {
      const cy = y + ROW / 2;
      const color = row.goal === undefined ? "#4a6fa5" : row.rangeCrossesGoal ? "#c98a1b" : row.met ? "#2f855a" : "#c53030";
      parts.push(`<text x="${LABEL_W}" y="${cy + 4}" text-anchor="end">${escape(row.label)}</text>`);
      parts.push(
        `<rect x="${BAR_X}" y="${y + 5}" width="${Math.max(1, row.value.median * scale).toFixed(1)}" height="${
          ROW - 10
        }" fill="${color}" opacity="0.85"/>`,
      );
      const x1 = BAR_X + row.value.min * scale;
      const x2 = BAR_X + row.value.max * scale;
      parts.push(
        `<path d="M${x1.toFixed(1)} ${cy}H${x2.toFixed(1)}M${x1.toFixed(1)} ${cy - 5}v10M${x2.toFixed(1)} ${
          cy - 5
        }v10" stroke="#222" stroke-width="1.2"/>`,
      );
      const unit = row.unit === "×" ? "×" : ` ${row.unit}`;
      parts.push(
        `<text x="${BAR_X + BAR_W + 8}" y="${cy + 4}">${escape(formatNumber(row.value.median) + unit)}${
          row.goal
            ? `<tspan class="${row.met ? "ok" : "no"}"> ${row.met ? "✓" : "✗"} goal ${
              row.goal.op === ">=" ? "≥" : "≤"
            } ${row.goal.value}</tspan>${row.rangeCrossesGoal ? `<tspan class="mx"> (rounds on both sides)</tspan>` : ""}`
            : ""
        }</text>`,
      );
      y += ROW;
    }
    const goals = [...new Set(rows.filter((r) => r.goal).map((r) => r.goal.value))];
    for (const goal of goals) {
      const gx = BAR_X + goal * scale;
      parts.push(`<path d="M${gx.toFixed(1)} ${y - rows.length * ROW}V${y}" stroke="#000" stroke-dasharray="4 3" stroke-width="1"/>`);
    }
  }
  y += 16;
  parts.push(
    `<text x="10" y="${y}" class="f">${
      escape(`${meta.command} · ${meta.loadGenerator.name}, ${meta.pinning} · commit ${meta.commit}`)
    }</text>`,
  );
  y += 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">
<style>.t{font-size:14px;font-weight:600}.g{font-size:13px;font-weight:600}.f{font-size:10px;fill:#555}.ok{fill:#2f855a}.no{fill:#c53030}.mx{fill:#c98a1b}</style>
<rect width="100%" height="100%" fill="#fff"/>
${parts.join("\n")}
</svg>
`;
}
