import { type DigestKind, IMAGE_OUTPUT_TYPES, type Target } from "../model.ts";
import type { BuildObservation, ImageObservation } from "../observation.ts";

export function where(o: BuildObservation): string {
  return o.iteration !== undefined ? `iteration ${o.iteration}` : `build #${o.sequence}`;
}

/** Why a run has nothing to judge: it failed (another outcome judges that). */
export function failedRun(runs: readonly BuildObservation[]): BuildObservation | undefined {
  return runs.find((o) => o.exitCode !== 0);
}

export type Resolved = { readonly image: ImageObservation; readonly output: number } | { readonly missing: string };

/** The image a target names in one run: the given output, or the build's first image output. */
export function imageOf(o: BuildObservation, target: Target): Resolved {
  const chosen = target.output !== undefined ? o.outputs.find((x) => x.index === target.output) : o.outputs.find((x) => IMAGE_OUTPUT_TYPES.has(x.type));
  if (!chosen) return { missing: `build "${o.build}" (${where(o)}) has ${target.output !== undefined ? `no output ${target.output}` : "no image output"}` };
  if (chosen.image) return { image: chosen.image, output: chosen.index };
  if (!IMAGE_OUTPUT_TYPES.has(chosen.type)) return { missing: `output ${chosen.index} of "${o.build}" (${where(o)}) is a ${chosen.type} export, not an image` };
  if (chosen.unreadable) return { missing: `output ${chosen.index} of "${o.build}" (${where(o)}) could not be read: ${chosen.unreadable}` };
  return { missing: `output ${chosen.index} of "${o.build}" (${where(o)}) holds no image to read (an image output without push: true stays in the daemon)` };
}

export function digestOf(image: ImageObservation, kind: DigestKind): string {
  switch (kind) {
    case "image":
      return image.indexDigest ?? image.manifestDigest;
    case "manifest":
      return image.manifestDigest;
    case "config":
      return image.configDigest;
    case "layers":
      return image.config.rootfs?.diff_ids?.join(",") ?? "";
  }
}

export function short(value: string | undefined): string {
  if (value === undefined) return "(none)";
  if (value === "") return "(no layers)";
  return value
    .split(",")
    .map((d) => d.replace(/^sha256:/, "").slice(0, 12))
    .join(",");
}
