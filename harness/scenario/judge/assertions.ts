/**
 * Assertions compare observations; each gives an outcome with what it expected, what it
 * saw, and where it first stopped holding. An assertion that cannot see what it needs is
 * inconclusive, never a pass or a failure; one whose build failed or never ran is not
 * evaluated (the failure is judged by build-succeeds or the implicit control).
 */
import { sameLayerBlob } from "../../oci/image-observation.ts";
import { INLINE_CACHE_KEY, type InlineCacheConfig, recordsLosingResults } from "../../oci/inline-cache.ts";
import { normalizeInstruction } from "../format/dockerfile.ts";
import { type Assertion, IMAGE_OUTPUT_TYPES, type Target } from "../model.ts";
import type { AttemptObservation, BuildObservation, ImageObservation } from "../observation.ts";
import { anyLayerHolds, fileInImage, regularFileInImage, whiteoutsOf } from "./image-files.ts";
import { type AssertionOutcome, EVERY_BUILD_SUCCEEDS, type ImageRef } from "./outcome.ts";
import { digestOf, failedRun, imageOf, short, where } from "./targets.ts";

type Result = Pick<AssertionOutcome, "status" | "expected" | "actual" | "firstViolation" | "differing">;

const violation = (o: BuildObservation): Pick<AssertionOutcome, "firstViolation"> => ({
  firstViolation: { sequence: o.sequence, ...(o.iteration !== undefined ? { iteration: o.iteration } : {}) },
});
const notEvaluated = (expected: string, actual: string): Result => ({ status: "not-evaluated", expected, actual });
const inconclusive = (expected: string, actual: string): Result => ({ status: "inconclusive", expected, actual });

/** The reason a build's runs cannot be judged: none ran, or one failed. */
function unjudgeable(runs: readonly BuildObservation[], build: string, stoppedEarly: string | undefined, expected: string): Result | undefined {
  if (runs.length === 0) return notEvaluated(expected, stoppedEarly ? `build "${build}" never ran: ${stoppedEarly}` : `build "${build}" never ran`);
  const failed = failedRun(runs);
  if (failed) return notEvaluated(expected, `build "${build}" failed (${where(failed)}); that failure is judged on its own`);
  return undefined;
}

type RunReading = { readonly ok: boolean; readonly actual: string } | { readonly missing: string };

/**
 * Reads every run: the first run that violates the assertion makes it fail there; else a run
 * that showed nothing to judge makes it inconclusive. A violation seen in any run is a
 * finding whatever another run failed to show, so the outcome does not depend on run order.
 */
function acrossRuns(runs: readonly BuildObservation[], expected: string, read: (o: BuildObservation) => RunReading): Result {
  let last = "";
  let missing: string | undefined;
  for (const o of runs) {
    const r = read(o);
    if ("missing" in r) missing ??= r.missing;
    else if (!r.ok) return { status: "fails", expected, actual: `${r.actual} (${where(o)})`, ...violation(o) };
    else last = r.actual;
  }
  if (missing !== undefined) return inconclusive(expected, missing);
  return { status: "holds", expected, actual: runs.length === 1 ? last : `${last}, in all ${runs.length} runs` };
}

/** Checks `check` on the image of every run (see acrossRuns). */
function everyImage(
  runs: readonly BuildObservation[],
  target: Target,
  expected: string,
  check: (image: ImageObservation, o: BuildObservation) => RunReading,
): Result {
  return acrossRuns(runs, expected, (o) => {
    const resolved = imageOf(o, target);
    if ("missing" in resolved) return resolved;
    const r = check(resolved.image, o);
    return "missing" in r ? { missing: `${r.missing} (${where(o)})` } : r;
  });
}

/**
 * The value at a dotted path. Keys may themselves hold dots (labels such as
 * `org.opencontainers.image.source`), so at each level the longest run of segments that
 * names a key is taken: `config.Labels.org.opencontainers.image.source` finds the label.
 */
function fieldAt(value: unknown, field: string): unknown {
  const parts = field.split(".");
  let v = value;
  for (let i = 0; i < parts.length; ) {
    if (v === null || typeof v !== "object") return undefined;
    const object = v as Record<string, unknown>;
    let end = parts.length;
    while (end > i && !Object.hasOwn(object, parts.slice(i, end).join("."))) end--;
    if (end === i) return undefined;
    v = object[parts.slice(i, end).join(".")];
    i = end;
  }
  return v;
}

function describe(a: Assertion): string {
  const t = (x: Target) => `"${x.build}"${x.output !== undefined ? ` (output ${x.output})` : ""}`;
  switch (a.kind) {
    case "build-succeeds":
      return `build "${a.build}" succeeds`;
    case "digest-stable":
      return `${a.digest} digest of ${t(a.target)} is the same in every run`;
    case "digest-equal":
    case "digest-differs":
      return `${a.digest} digests of ${t(a.targets[0])} and ${t(a.targets[1])} ${a.kind === "digest-equal" ? "are equal" : "differ"}`;
    case "step-cached":
      return `step "${a.step}" of "${a.build}" is ${a.cached ? "cached" : "executed"}`;
    case "file-equal":
    case "file-differs":
      return `${a.path} in the images of ${t(a.targets[0])} and ${t(a.targets[1])} ${a.kind === "file-equal" ? "has the same content" : "differs"}`;
    case "inline-cache-keeps-results":
      return `no inline cache record loses its layers or chains between runs of "${a.build}"`;
    case "layer-mtimes":
      return `every entry of ${{ last: "the last layer", new: "the layers the build added", all: "every layer" }[a.layers]} of ${t(a.target)} has an mtime ≤ ${a.notAfter} (${new Date(a.notAfter * 1000).toISOString()})`;
    case "whiteout":
      return `a layer of ${t(a.target)} deletes ${a.path} with a whiteout${a.mtimeNotAfter !== undefined ? ` dated ≤ ${a.mtimeNotAfter}` : ""}`;
    case "config-key":
      return `the image config of ${t(a.target)} has ${a.present ? "" : "no "}key ${a.key}`;
    case "config-field":
      return `${a.field} in the image config of ${t(a.target)} is ${a.equals}`;
    case "metadata-key":
      return `the metadata file of "${a.build}" has ${a.present ? "" : "no "}key ${a.key}`;
    case "layer-from-base":
      return `layer ${a.layer} of ${t(a.target)} is layer ${a.baseLayer} of base image ${a.image}, unchanged`;
    case "output-readable":
      return `${t(a.target)} holds a complete image`;
    case "annotation":
      return `the ${a.on === "layer" ? `layer ${a.layer} descriptor` : a.on} of ${t(a.target)} has ${a.present ? `annotation ${a.key}${a.equals !== undefined ? ` = ${a.equals}` : ""}` : `no annotation ${a.key}`}`;
  }
}

function evaluateOne(a: Assertion, obs: AttemptObservation): Result {
  const runsOf = (build: string) => obs.builds.filter((o) => o.build === build);
  const early = obs.stoppedEarly;
  switch (a.kind) {
    case "build-succeeds": {
      const runs = runsOf(a.build);
      const expected = "exit code 0";
      if (runs.length === 0) return notEvaluated(expected, `build "${a.build}" never ran${early ? `: ${early}` : ""}`);
      const failed = failedRun(runs);
      if (!failed) return { status: "holds", expected, actual: `exit 0 in all ${runs.length} run(s)` };
      const what = failed.crash
        ? `BuildKit crashed: ${failed.crash.panic?.join(" | ") ?? `the daemon exited with ${failed.crash.exitCode}`}`
        : `exit ${failed.exitCode}: ${failed.error ?? "no error text"}`;
      return { status: "fails", expected, actual: `${what} (${where(failed)})`, ...violation(failed) };
    }
    case "digest-stable": {
      const runs = runsOf(a.target.build);
      const expected = `one ${a.digest} digest across all runs`;
      const blocked = unjudgeable(runs, a.target.build, early, expected);
      if (blocked) return blocked;
      if (runs.length < 2) return inconclusive(expected, `only ${runs.length} run of "${a.target.build}"; stability needs at least 2`);
      const images: { o: BuildObservation; image: ImageObservation; output: number }[] = [];
      let missing: string | undefined;
      for (const o of runs) {
        const r = imageOf(o, a.target);
        if ("missing" in r) missing ??= r.missing;
        else images.push({ o, image: r.image, output: r.output });
      }
      const first = images[0];
      const changed = first && images.find((x) => digestOf(x.image, a.digest) !== digestOf(first.image, a.digest));
      if (!first || !changed) {
        if (missing !== undefined) return inconclusive(expected, missing);
        return { status: "holds", expected, actual: `${short(digestOf(first!.image, a.digest))} in all ${runs.length} runs` };
      }
      const distinct = [...new Set(images.map((x) => digestOf(x.image, a.digest)))];
      const firstAt = (d: string) => where(images.find((x) => digestOf(x.image, a.digest) === d)!.o);
      return {
        status: "fails",
        expected,
        actual: `${distinct.length} digests: ${distinct.map((d) => `${short(d)} (first at ${firstAt(d)})`).join(", ")}`,
        ...violation(changed.o),
        differing: [ref(first.o, first.output), ref(changed.o, changed.output)],
      };
    }
    case "digest-equal":
    case "digest-differs": {
      const want = a.kind === "digest-equal";
      const expected = want ? "the same digest" : "two different digests";
      const sides = [];
      for (const target of a.targets) {
        const runs = runsOf(target.build);
        const blocked = unjudgeable(runs, target.build, early, expected);
        if (blocked) return blocked;
        const last = runs.at(-1)!;
        const r = imageOf(last, target);
        if ("missing" in r) return inconclusive(expected, r.missing);
        sides.push({ o: last, image: r.image, output: r.output, label: target.build });
      }
      const [x, y] = sides as [(typeof sides)[0], (typeof sides)[0]];
      const dx = digestOf(x.image, a.digest);
      const dy = digestOf(y.image, a.digest);
      const holds = (dx === dy) === want;
      return {
        status: holds ? "holds" : "fails",
        expected,
        actual: `${x.label}: ${short(dx)}, ${y.label}: ${short(dy)}`,
        ...(holds ? {} : violation(y.o)),
        ...(!holds && want ? { differing: [ref(x.o, x.output), ref(y.o, y.output)] as const } : {}),
      };
    }
    case "step-cached": {
      const runs = runsOf(a.build);
      const wanted = a.cached ? "cached" : "executed";
      const blocked = unjudgeable(runs, a.build, early, wanted);
      if (blocked) return blocked;
      const text = normalizeInstruction(a.step);
      const result = acrossRuns(runs, wanted, (o) => {
        const matches = o.steps.filter((s) => normalizeInstruction(s.step).includes(text));
        if (matches.length !== 1) {
          return { missing: `${matches.length} steps of ${where(o)} match (steps: ${o.steps.map((s) => JSON.stringify(s.step)).join(", ")})` };
        }
        const step = matches[0]!;
        const detail = step.vertices > 1 ? ` (${step.cachedVertices} of ${step.vertices} vertices cached)` : "";
        return { ok: step.cached === a.cached, actual: `${step.cached ? "cached" : "executed"}${detail}` };
      });
      return result.status === "holds" ? { ...result, actual: `${wanted} in all ${runs.length} run(s)` } : result;
    }
    case "file-equal":
    case "file-differs": {
      const want = a.kind === "file-equal";
      const expected = want ? "the same content digest" : "different content";
      const sides = [];
      for (const target of a.targets) {
        const runs = runsOf(target.build);
        const blocked = unjudgeable(runs, target.build, early, expected);
        if (blocked) return blocked;
        const last = runs.at(-1)!;
        const r = imageOf(last, target);
        if ("missing" in r) return inconclusive(expected, r.missing);
        const entry = fileInImage(r.image.layers, a.path);
        if (!entry) return inconclusive(expected, `${a.path} is not in the image of "${target.build}" (${where(last)})`);
        const file = regularFileInImage(r.image.layers, a.path);
        if (file?.contentDigest === undefined) {
          const what =
            entry.type === "hardlink" ? `hardlink to ${entry.linkname ?? "(no target)"}, which the image does not hold as a regular file` : entry.type;
          return inconclusive(expected, `${a.path} in the image of "${target.build}" is a ${what}, not a regular file`);
        }
        sides.push({ o: last, digest: file.contentDigest, label: target.build });
      }
      const [x, y] = sides as [(typeof sides)[0], (typeof sides)[0]];
      const holds = (x.digest === y.digest) === want;
      return {
        status: holds ? "holds" : "fails",
        expected,
        actual: `${x.label}: ${short(x.digest)}, ${y.label}: ${short(y.digest)}`,
        ...(holds ? {} : violation(y.o)),
      };
    }
    case "inline-cache-keeps-results": {
      const runs = runsOf(a.build);
      const expected = "every record keeps its results across consecutive runs";
      const blocked = unjudgeable(runs, a.build, early, expected);
      if (blocked) return blocked;
      if (runs.length < 2) return inconclusive(expected, `only ${runs.length} run of "${a.build}"; needs at least 2`);
      // Each run is compared with the last earlier run whose inline cache could be read.
      let previous: InlineCacheConfig | undefined;
      const result = acrossRuns(runs, expected, (o) => {
        const r = imageOf(o, { build: a.build });
        if ("missing" in r) return r;
        const cache = r.image.inlineCache;
        if (!cache) return { missing: `the image of ${where(o)} has no inline cache (${INLINE_CACHE_KEY}); was it exported?` };
        if ("error" in cache) return { ok: false, actual: `the inline cache cannot be decoded: ${cache.error}` };
        const lost = previous ? recordsLosingResults(previous, cache.decoded) : [];
        previous = cache.decoded;
        if (lost.length === 0) return { ok: true, actual: "" };
        return { ok: false, actual: `records lost results: ${lost.map((l) => `${short(l.digest)} lost ${l.lost.join(" and ")}`).join("; ")}` };
      });
      return result.status === "holds" ? { ...result, actual: `every record kept its results in all ${runs.length} runs` } : result;
    }
    case "layer-mtimes": {
      const runs = runsOf(a.target.build);
      const expected = `no mtime after ${a.notAfter}`;
      return (
        unjudgeable(runs, a.target.build, early, expected) ??
        everyImage(runs, a.target, expected, (image) => {
          const chosen = a.layers === "last" ? image.layers.slice(-1) : a.layers === "new" ? image.layers.filter((l) => !l.fromBaseImage) : image.layers;
          if (chosen.length === 0) return { missing: a.layers === "new" ? "the build added no layer on top of its base image" : "the image has no layers" };
          const entries = chosen.flatMap((l) => l.entries);
          const late = entries.filter((e) => e.mtimeEpochSeconds > a.notAfter);
          return late.length === 0
            ? { ok: true, actual: `${entries.length} entries, none later` }
            : {
                ok: false,
                actual: `${late.length} of ${entries.length} entries later: ${late
                  .slice(0, 8)
                  .map((e) => `${e.name} ${e.mtime}`)
                  .join(", ")}${late.length > 8 ? ", …" : ""}`,
              };
        })
      );
    }
    case "whiteout": {
      const runs = runsOf(a.target.build);
      const expected = a.mtimeNotAfter !== undefined ? `a whiteout with mtime ≤ ${a.mtimeNotAfter}` : "a whiteout";
      return (
        unjudgeable(runs, a.target.build, early, expected) ??
        everyImage(runs, a.target, expected, (image) => {
          const whiteouts = whiteoutsOf(image.layers, a.path);
          if (whiteouts.length === 0) {
            if (!anyLayerHolds(image.layers, a.path)) return { missing: `no layer holds ${a.path}, so there is nothing to delete` };
            const left = fileInImage(image.layers, a.path) ? "is still in the image" : "is gone, deleted with a directory above it";
            return { ok: false, actual: `no whiteout for it; ${a.path} ${left}` };
          }
          // Every deletion of the path must be dated in range, not only the first one found.
          const late = whiteouts.find((e) => a.mtimeNotAfter !== undefined && e.mtimeEpochSeconds > a.mtimeNotAfter);
          const shown = late ?? whiteouts.at(-1)!;
          return { ok: late === undefined, actual: `whiteout ${shown.name} dated ${shown.mtime}` };
        })
      );
    }
    case "config-key": {
      const runs = runsOf(a.target.build);
      const expected = a.present ? "present" : "absent";
      return (
        unjudgeable(runs, a.target.build, early, expected) ??
        everyImage(runs, a.target, expected, (image) => {
          const present = a.key in image.config;
          return { ok: present === a.present, actual: present ? "present" : "absent" };
        })
      );
    }
    case "config-field": {
      const runs = runsOf(a.target.build);
      return (
        unjudgeable(runs, a.target.build, early, a.equals) ??
        everyImage(runs, a.target, a.equals, (image) => {
          const value = fieldAt(image.config, a.field);
          const text = value === undefined ? "(absent)" : typeof value === "string" ? value : JSON.stringify(value);
          return { ok: text === a.equals, actual: text };
        })
      );
    }
    case "metadata-key": {
      const runs = runsOf(a.build);
      const expected = a.present ? "present" : "absent";
      const blocked = unjudgeable(runs, a.build, early, expected);
      if (blocked) return blocked;
      const result = acrossRuns(runs, expected, (o) => {
        if (Object.keys(o.metadata).length === 0) return { missing: `the build wrote no metadata file (${where(o)})` };
        const present = Object.keys(o.metadata).some((k) => k === a.key || k.startsWith(`${a.key}/`));
        return { ok: present === a.present, actual: present ? "present" : "absent" };
      });
      return result.status === "holds" ? { ...result, actual: `${expected} in all ${runs.length} run(s)` } : result;
    }
    case "layer-from-base": {
      const runs = runsOf(a.target.build);
      const expected = `the blob of layer ${a.baseLayer} of ${a.image}`;
      const base = obs.baseImages[a.image];
      const blocked = unjudgeable(runs, a.target.build, early, expected);
      if (blocked) return blocked;
      if (!base) return inconclusive(expected, `base image ${a.image} was not pushed in this run`);
      const wantLayer = base.manifest.layers[a.baseLayer];
      if (!wantLayer) return inconclusive(expected, `base image ${a.image} has ${base.manifest.layers.length} layer(s); there is no layer ${a.baseLayer}`);
      return everyImage(runs, a.target, expected, (image) => {
        const got = image.manifest.layers[a.layer];
        if (!got) return { missing: `the image has ${image.manifest.layers.length} layer(s); there is no layer ${a.layer}` };
        // Docker and OCI names of the same format count as the same: before v0.31 the exporter relabels a layer it carries unchanged.
        const same = sameLayerBlob(got, wantLayer, "equivalent");
        const text = (d: typeof got) => `${short(d.digest)} ${d.size} B ${d.mediaType}`;
        return { ok: same, actual: same ? `${text(got)}, as in the base image` : `${text(got)} (the base image's: ${text(wantLayer)})` };
      });
    }
    case "output-readable": {
      const runs = runsOf(a.target.build);
      const expected = "a complete image";
      return (
        unjudgeable(runs, a.target.build, early, expected) ??
        acrossRuns(runs, expected, (o) => {
          // An output BuildKit reported written that does not hold together is the finding; the machine was ruled out when it was read.
          const chosen =
            a.target.output !== undefined ? o.outputs.find((x) => x.index === a.target.output) : o.outputs.find((x) => IMAGE_OUTPUT_TYPES.has(x.type));
          if (chosen?.unreadable !== undefined) return { ok: false, actual: chosen.unreadable };
          const resolved = imageOf(o, a.target);
          return "image" in resolved ? { ok: true, actual: `manifest ${short(resolved.image.manifestDigest)}, config and layers read` } : resolved;
        })
      );
    }
    case "annotation": {
      const runs = runsOf(a.target.build);
      const expected = a.present ? (a.equals !== undefined ? `${a.key} = ${a.equals}` : `${a.key} present`) : `no ${a.key}`;
      return (
        unjudgeable(runs, a.target.build, early, expected) ??
        everyImage(runs, a.target, expected, (image) => {
          const annotations =
            a.on === "index" ? image.index?.annotations : a.on === "manifest" ? image.manifest.annotations : image.manifest.layers[a.layer!]?.annotations;
          if (a.on === "index" && !image.index) return { missing: "the image has no index" };
          if (a.on === "layer" && !image.manifest.layers[a.layer!]) return { missing: `the image has no layer ${a.layer}` };
          const value = annotations?.[a.key];
          const ok = a.present ? value !== undefined && (a.equals === undefined || value === a.equals) : value === undefined;
          return { ok, actual: value === undefined ? "absent" : `${a.key} = ${value}` };
        })
      );
    }
  }
}

function ref(o: BuildObservation, output: number): ImageRef {
  return { sequence: o.sequence, output };
}

export function evaluate(a: Assertion, obs: AttemptObservation, version: string, gated: (range: string) => boolean): AssertionOutcome {
  const description = describe(a);
  if (a.versions !== undefined && !gated(a.versions)) {
    return { id: a.id, kind: a.kind, description, status: "not-evaluated", expected: "-", actual: `evaluated only on ${a.versions}, not on ${version}` };
  }
  return { id: a.id, kind: a.kind, description, ...evaluateOne(a, obs) };
}

/** The implicit control: every build no build-succeeds assertion names exits 0. */
export function everyBuildSucceeds(obs: AttemptObservation, named: ReadonlySet<string>): AssertionOutcome {
  const builds = obs.builds.filter((o) => !named.has(o.build));
  const failed = failedRun(builds);
  const base = {
    id: EVERY_BUILD_SUCCEEDS,
    kind: "every-build-succeeds" as const,
    description: "every build succeeds",
    expected: "exit code 0 from every build",
  };
  if (!failed) return { ...base, status: "holds", actual: `${builds.length} build(s) succeeded` };
  const what = failed.crash
    ? `BuildKit crashed during "${failed.build}": ${failed.crash.panic?.join(" | ") ?? `the daemon exited with ${failed.crash.exitCode}`}`
    : `build "${failed.build}" exited ${failed.exitCode}: ${failed.error ?? "no error text"}`;
  return { ...base, status: "fails", actual: `${what} (${where(failed)})`, ...violation(failed) };
}
