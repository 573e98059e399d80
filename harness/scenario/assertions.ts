import type { LayerEntry } from "../oci/layer-entries.ts";
import type { BuildObservation } from "./observation.ts";
import type { Assertion, DigestKind } from "./types.ts";

export interface AssertionOutcome {
  /** The assertion in words, e.g. "config digest of build `rebuild` is the same in every run". */
  readonly description: string;
  readonly holds: boolean;
  readonly expected: string;
  readonly actual: string;
  /** Where it first stopped holding. */
  readonly firstViolation?: { readonly iteration?: number; readonly sequence: number };
  /** Must hold even where a bug is declared: its failure is never "the known bug". */
  readonly control?: boolean;
}

/** A layer of a build's image, listed. */
export interface ListedLayer {
  readonly entries: readonly LayerEntry[];
  /** The layer is one of a harness base image's layers (not made by the build). */
  readonly fromBaseImage: boolean;
}

/** The listed layers of a build's image, bottom first; undefined when they were not fetched. */
export type LayerLookup = (o: BuildObservation) => readonly ListedLayer[] | undefined;

function where(o: BuildObservation): string {
  return o.iteration !== undefined ? `iteration ${o.iteration}` : `build #${o.sequence}`;
}

function digestOf(o: BuildObservation | undefined, kind: DigestKind): string | undefined {
  if (!o) return undefined;
  if (kind === "image") return o.imageDigest;
  if (kind === "config") return o.configDigest;
  return o.diffIds ? o.diffIds.join(",") : undefined;
}

function short(value: string | undefined): string {
  if (value === undefined) return "(none)";
  return value
    .split(",")
    .map((d) => d.replace(/^sha256:/, "").slice(0, 12))
    .join(",");
}

function violation(o: BuildObservation | undefined): Pick<AssertionOutcome, "firstViolation"> {
  return o ? { firstViolation: { ...(o.iteration !== undefined ? { iteration: o.iteration } : {}), sequence: o.sequence } } : {};
}

/** Checks `check` on every run of a build; the first run where it fails is the violation. */
function everyRun(
  runs: readonly BuildObservation[],
  description: string,
  expected: string,
  check: (o: BuildObservation) => { ok: boolean; actual: string },
): AssertionOutcome {
  if (runs.length === 0) return { description, holds: false, expected, actual: "the build never ran" };
  for (const o of runs) {
    const r = check(o);
    if (!r.ok) return { description, holds: false, expected, actual: `${r.actual} (${where(o)})`, ...violation(o) };
  }
  const last = check(runs.at(-1)!);
  return { description, holds: true, expected, actual: runs.length === 1 ? last.actual : `${last.actual}, in all ${runs.length} runs` };
}

/** The file at `path` as the image shows it: the top-most layer that has it (or deletes it) wins. */
function fileInImage(layers: readonly ListedLayer[], path: string): LayerEntry | undefined {
  const name = path.replace(/^\/+/, "");
  const parent = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
  for (let i = layers.length - 1; i >= 0; i--) {
    for (const e of layers[i]!.entries) {
      if (e.whiteout?.kind === "file" && e.whiteout.target.replace(/^\/+/, "") === name) return undefined;
      if (e.whiteout?.kind === "opaque" && e.whiteout.dir.replace(/^\/+/, "") === parent) return undefined;
      if (e.name === name) return e;
    }
  }
  return undefined;
}

function fieldAt(value: unknown, field: string): unknown {
  return field.split(".").reduce<unknown>((v, key) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined), value);
}

export function evaluate(assertion: Assertion, observations: readonly BuildObservation[], layersOf: LayerLookup): AssertionOutcome {
  const outcome = evaluateOne(assertion, observations, layersOf);
  return assertion.control ? { ...outcome, control: true } : outcome;
}

function evaluateOne(assertion: Assertion, observations: readonly BuildObservation[], layersOf: LayerLookup): AssertionOutcome {
  const runsOf = (build: string) => observations.filter((o) => o.build === build);
  switch (assertion.kind) {
    case "digest-stable": {
      const runs = runsOf(assertion.build);
      const description = `${assertion.digest} digest of build "${assertion.build}" is the same in every run`;
      const first = digestOf(runs[0], assertion.digest);
      const changed = runs.find((o) => digestOf(o, assertion.digest) !== first);
      const distinct = [...new Set(runs.map((o) => digestOf(o, assertion.digest) ?? "(none)"))];
      return {
        description,
        holds: runs.length > 0 && first !== undefined && !changed,
        expected: `one ${assertion.digest} digest across ${runs.length} run(s)`,
        actual:
          distinct.length === 1
            ? `${distinct[0]} in all ${runs.length} run(s)`
            : `${distinct.length} digests: ${distinct.map((d) => `${short(d)} (first at ${where(runs.find((o) => (digestOf(o, assertion.digest) ?? "(none)") === d)!)})`).join(", ")}`,
        ...violation(changed),
      };
    }
    case "digest-equal":
    case "digest-differs": {
      const [a, b] = assertion.builds;
      const x = digestOf(runsOf(a).at(-1), assertion.digest);
      const y = digestOf(runsOf(b).at(-1), assertion.digest);
      const equal = x !== undefined && x === y;
      const want = assertion.kind === "digest-equal";
      return {
        description: `${assertion.digest} digests of "${a}" and "${b}" ${want ? "are equal" : "differ"}`,
        holds: x !== undefined && y !== undefined && equal === want,
        expected: want ? "the same digest" : "two different digests",
        actual: `${a}: ${short(x)}, ${b}: ${short(y)}`,
        ...(x !== undefined && y !== undefined && equal === want ? {} : violation(runsOf(b).at(-1))),
      };
    }
    case "step-cached": {
      const wanted = assertion.cached ? "cached" : "executed";
      return everyRun(runsOf(assertion.build), `step "${assertion.step}" of "${assertion.build}" is ${wanted}`, wanted, (o) => {
        const matches = o.steps.filter((s) => s.step.includes(assertion.step));
        if (matches.length !== 1) {
          return { ok: false, actual: `${matches.length} steps match (steps: ${o.steps.map((s) => JSON.stringify(s.step)).join(", ")})` };
        }
        const cached = matches[0]!.cached;
        return { ok: cached === assertion.cached, actual: cached ? "cached" : "executed" };
      });
    }
    case "file-equal":
    case "file-differs": {
      const [a, b] = assertion.builds;
      const want = assertion.kind === "file-equal";
      const description = `${assertion.path} in the images of "${a}" and "${b}" ${want ? "has the same content" : "differs"}`;
      const content = (build: string) => {
        const o = runsOf(build).at(-1);
        const layers = o && layersOf(o);
        return layers ? fileInImage(layers, assertion.path)?.contentDigest : undefined;
      };
      const x = content(a);
      const y = content(b);
      const holds = x !== undefined && y !== undefined && (x === y) === want;
      return {
        description,
        holds,
        expected: want ? "the same content digest" : "different content",
        actual: `${a}: ${short(x)}, ${b}: ${short(y)}`,
        ...(holds ? {} : violation(runsOf(b).at(-1))),
      };
    }
    case "inline-cache-keeps-results": {
      const runs = runsOf(assertion.build);
      const description = `no inline cache record loses its layers or chains between runs of "${assertion.build}"`;
      const withoutCache = runs.find((o) => !o.inlineCache);
      const losing = runs.filter((o) => (o.inlineCache?.lostSincePreviousRun.length ?? 0) > 0);
      const first = withoutCache ?? losing[0];
      const lossText = (o: BuildObservation) => o.inlineCache!.lostSincePreviousRun.map((l) => `${l.digest} lost ${l.lost.join(" and ")}`).join("; ");
      return {
        description,
        holds: runs.length > 1 && !first,
        expected: `every record keeps its results across ${runs.length} run(s) (needs at least 2)`,
        actual: withoutCache
          ? `no inline cache in the image of ${where(withoutCache)}`
          : losing.length === 0
            ? `every record kept its results in all ${runs.length} run(s)`
            : `records lost results at ${losing.map((o) => `${where(o)} (${lossText(o)})`).join(", ")}`,
        ...violation(first),
      };
    }
    case "layer-mtimes": {
      const { notAfter } = assertion;
      const which = { last: "the last layer", new: "the layers the build added", all: "every layer" }[assertion.layers];
      return everyRun(
        runsOf(assertion.build),
        `every entry of ${which} of "${assertion.build}" has an mtime ≤ ${notAfter} (${new Date(notAfter * 1000).toISOString()})`,
        `no mtime after ${notAfter}`,
        (o) => {
          const layers = layersOf(o);
          if (!layers || layers.length === 0) return { ok: false, actual: "no layers were listed" };
          const chosen = assertion.layers === "last" ? layers.slice(-1) : assertion.layers === "new" ? layers.filter((l) => !l.fromBaseImage) : layers;
          const entries = chosen.flatMap((l) => l.entries);
          const late = entries.filter((e) => e.mtimeEpochSeconds > notAfter);
          return late.length === 0
            ? { ok: true, actual: `${entries.length} entries, none later` }
            : {
                ok: false,
                actual: `${late.length} of ${entries.length} entries later: ${late
                  .slice(0, 8)
                  .map((e) => `${e.name} ${e.mtime}`)
                  .join(", ")}${late.length > 8 ? ", …" : ""}`,
              };
        },
      );
    }
    case "whiteout": {
      const name = assertion.path.replace(/^\/+/, "");
      const bound = assertion.mtimeNotAfter;
      const description = `a layer of "${assertion.build}" deletes ${assertion.path} with a whiteout${bound !== undefined ? ` dated ≤ ${bound}` : ""}`;
      return everyRun(runsOf(assertion.build), description, bound !== undefined ? `a whiteout with mtime ≤ ${bound}` : "a whiteout", (o) => {
        const layers = layersOf(o);
        const entry = layers?.flatMap((l) => l.entries).find((e) => e.whiteout?.kind === "file" && e.whiteout.target.replace(/^\/+/, "") === name);
        if (!entry) return { ok: false, actual: "no whiteout for it" };
        const ok = bound === undefined || entry.mtimeEpochSeconds <= bound;
        return { ok, actual: `whiteout ${entry.name} dated ${entry.mtime}` };
      });
    }
    case "config-key": {
      const want = assertion.present ? "present" : "absent";
      return everyRun(
        runsOf(assertion.build),
        `the image config of "${assertion.build}" has ${assertion.present ? "" : "no "}key ${assertion.key}`,
        want,
        (o) => {
          if (!o.config) return { ok: false, actual: "no image config was read" };
          const present = assertion.key in o.config || (o.inlineCache !== undefined && assertion.key === "moby.buildkit.cache.v0");
          return { ok: present === assertion.present, actual: present ? "present" : "absent" };
        },
      );
    }
    case "config-field":
      return everyRun(
        runsOf(assertion.build),
        `${assertion.field} in the image config of "${assertion.build}" is ${assertion.equals}`,
        assertion.equals,
        (o) => {
          const value = fieldAt(o.config, assertion.field);
          const text = value === undefined ? "(absent)" : typeof value === "string" ? value : JSON.stringify(value);
          return { ok: text === assertion.equals, actual: text };
        },
      );
    case "metadata-key": {
      const want = assertion.present ? "present" : "absent";
      return everyRun(
        runsOf(assertion.build),
        `the metadata file of "${assertion.build}" has ${assertion.present ? "" : "no "}key ${assertion.key}`,
        want,
        (o) => {
          const present = Object.keys(o.metadata).some((k) => k === assertion.key || k.startsWith(`${assertion.key}/`));
          return { ok: present === assertion.present, actual: present ? "present" : "absent" };
        },
      );
    }
  }
}

/** Builds that failed: a scenario expects its builds to succeed, and a failed build is never the declared bug. */
export function buildsSucceeded(observations: readonly BuildObservation[]): AssertionOutcome {
  const failed = observations.find((o) => o.exitCode !== 0);
  return {
    description: "every build succeeds",
    control: true,
    holds: !failed,
    expected: "exit code 0 from every buildctl build",
    actual: failed
      ? `build "${failed.build}" (${where(failed)}) exited ${failed.exitCode}: ${failed.error ?? "no error text"}`
      : `${observations.length} build(s) succeeded`,
    ...violation(failed),
  };
}
