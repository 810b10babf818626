// Loads several servers at the same time, one wrk each, for a number of rounds. They share the
// server core, so a busy neighbour slows them alike: with every server saturated the scheduler
// gives each the same CPU time, and throughput ratios follow the inverse of the CPU cost per
// request. Steadier on a busy machine than runs taken one after another.
import { runLoad } from "./load.mjs";
import { summarize } from "./stats.mjs";

/**
 * @param {object} o
 * @param {{ name: string, server: { url: string } }[]} o.servers the first one is the baseline
 * @param {number} o.rounds
 * @param {number} o.durationS seconds per round
 * @param {string} [o.method] default GET
 * @param {string} [o.path] default /
 * @param {number} [o.connections] per server, default 16
 * @param {(line: string) => void} [o.log]
 * @returns {Promise<{ ratios: Record<string, object>, rounds: Record<string, number>[] }>} each server's
 *   throughput ÷ the baseline's, summarized over the rounds, and every round's req/s
 */
export async function loadTogether({ servers, rounds, durationS, method = "GET", path = "/", connections = 16, log = () => {} }) {
  const perRound = [];
  for (let round = 1; round <= rounds; round++) {
    const results = await Promise.all(servers.map(({ server }) => runLoad({ url: server.url + path, method, durationS, connections })));
    perRound.push(Object.fromEntries(results.map((result, i) => [servers[i].name, result.rps])));
    log(`    together ${round}/${rounds}: ` + results.map((r, i) => `${servers[i].name} ${Math.round(r.rps)} req/s`).join(" | "));
  }
  const baseline = servers[0].name;
  const ratios = {};
  for (const { name } of servers.slice(1)) {
    ratios[`${name}/${baseline}`] = summarize(perRound.map((rps) => rps[name] / rps[baseline]));
  }
  return { ratios, rounds: perRound };
}
