/**
 * Splitting a run across machines: the version × scenario cells, version by version in
 * the order given, cut into n contiguous slices of near-equal size. Contiguous slices keep
 * each shard to few versions, so few provision a version twice; the same inputs always
 * give the same slices, so shards merge back into the single run.
 */
import { HarnessError } from "../errors.ts";

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) {
    throw new HarnessError(
      "SCENARIO_INVALID",
      `--shard ${JSON.stringify(text)} is not i/n with 1 ≤ i ≤ n.`,
      "Give e.g. --shard 2/4 (the second of four shards).",
    );
  }
  return { index, count };
}

/** The cells of a shard (all cells without one), as `${version}\0${scenarioId}`. */
export function shardCells(versions: readonly string[], scenarioIds: readonly string[], shard?: Shard): Set<string> {
  const all = versions.flatMap((v) => scenarioIds.map((s) => `${v}\0${s}`));
  if (!shard) return new Set(all);
  const from = Math.floor(((shard.index - 1) * all.length) / shard.count);
  const to = Math.floor((shard.index * all.length) / shard.count);
  return new Set(all.slice(from, to));
}
