/**
 * Rules every assertion kind shares, checked on each: gated out by versions, a build that
 * never ran or failed (not evaluated: another outcome judges that), an image that was not
 * pushed (inconclusive). The table is typed by kind, so a new kind must be added here.
 */
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../../harness/scenario/judge/assertions.ts";
import { satisfies } from "../../../../harness/scenario/judge/verdict.ts";
import type { Assertion, AssertionKind } from "../../../../harness/scenario/model.ts";
import type { AttemptObservation } from "../../../../harness/scenario/observation.ts";
import { attempt, build } from "./observations.ts";

const t = { build: "b" };
const KINDS: { readonly [K in AssertionKind]: Assertion & { kind: K } } = {
  "build-succeeds": { id: "a", kind: "build-succeeds", build: "b" },
  "digest-stable": { id: "a", kind: "digest-stable", target: t, digest: "config" },
  "digest-equal": { id: "a", kind: "digest-equal", targets: [t, t], digest: "image" },
  "digest-differs": { id: "a", kind: "digest-differs", targets: [t, t], digest: "manifest" },
  "step-cached": { id: "a", kind: "step-cached", build: "b", step: "RUN x", cached: true },
  "file-equal": { id: "a", kind: "file-equal", targets: [t, t], path: "/f" },
  "file-differs": { id: "a", kind: "file-differs", targets: [t, t], path: "/f" },
  "inline-cache-keeps-results": { id: "a", kind: "inline-cache-keeps-results", build: "b" },
  "layer-mtimes": { id: "a", kind: "layer-mtimes", target: t, notAfter: 0, layers: "new" },
  whiteout: { id: "a", kind: "whiteout", target: t, path: "/f" },
  "config-key": { id: "a", kind: "config-key", target: t, key: "k", present: true },
  "config-field": { id: "a", kind: "config-field", target: t, field: "created", equals: "x" },
  "metadata-key": { id: "a", kind: "metadata-key", build: "b", key: "k", present: true },
  "layer-from-base": { id: "a", kind: "layer-from-base", target: t, layer: 0, image: "busybox", baseLayer: 0 },
  "output-readable": { id: "a", kind: "output-readable", target: t },
  annotation: { id: "a", kind: "annotation", target: t, on: "manifest", key: "k", present: true },
};
const ALL = Object.values(KINDS) as Assertion[];
const judged = (a: Assertion, obs: AttemptObservation, version = "v0.34.0") => evaluate(a, obs, version, (range) => satisfies(version, range));

describe.each(ALL.map((a) => ({ kind: a.kind, a })))("$kind", ({ a }) => {
  it("is not evaluated outside its versions, whatever was observed", () => {
    const o = judged({ ...a, versions: ">=0.13.0 <0.20.0" }, attempt([build("b", { sequence: 1, exitCode: 1 })]), "v0.12.5");
    expect(o).toEqual(
      expect.objectContaining({ id: "a", kind: a.kind, status: "not-evaluated", actual: "evaluated only on >=0.13.0 <0.20.0, not on v0.12.5" }),
    );
  });

  it("is not evaluated when its build never ran", () => {
    expect(judged(a, attempt([], { stoppedEarly: "BuildKit crashed" }))).toMatchObject({
      status: "not-evaluated",
      actual: expect.stringContaining("never ran"),
    });
  });

  it(a.kind === "build-succeeds" ? "fails when its build failed" : "is not evaluated when its build failed", () => {
    const failed = judged(a, attempt([build("b", { sequence: 1, exitCode: 1, error: "boom" }), build("b", { sequence: 2, exitCode: 1 })]));
    expect(failed.status).toBe(a.kind === "build-succeeds" ? "fails" : "not-evaluated");
  });

  it("has a description in words and names what it expected", () => {
    const o = judged(a, attempt([]));
    expect(o.description).toMatch(/"b"/);
    expect(o.expected.length).toBeGreaterThan(0);
  });
});

const READS_IMAGES = ALL.filter((a) => "target" in a || "targets" in a || a.kind === "inline-cache-keeps-results");

describe.each(READS_IMAGES.map((a) => ({ kind: a.kind, a })))("$kind on an image that was not pushed", ({ a }) => {
  it("is inconclusive, saying the output holds no image", () => {
    const notPushed = attempt(
      [1, 2].map((sequence) => build("b", { sequence, outputs: [{ index: 0, type: "image" }] })),
      {
        baseImages: {
          busybox: {
            reference: "r",
            manifestDigest: "d",
            origin: "o",
            manifest: { schemaVersion: 2, config: { mediaType: "m", digest: "d", size: 1 }, layers: [{ mediaType: "m", digest: "d", size: 1 }] },
          },
        },
      },
    );
    expect(judged(a, notPushed)).toMatchObject({ status: "inconclusive", actual: expect.stringContaining("holds no image to read") });
  });
});
