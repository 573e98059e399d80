import { collapseProgressGroups, type StepResult } from "../../buildkit/progress/step.ts";
import type { StepObservation } from "../observation.ts";

/** A step of the progress stream as an observation: a COPY --link's vertices are one step. */
export function stepObservations(steps: readonly StepResult[]): StepObservation[] {
  const members = new Map<string, StepResult[]>();
  for (const s of steps) if (s.progressGroup) members.set(s.progressGroup, [...(members.get(s.progressGroup) ?? []), s]);
  return collapseProgressGroups(steps)
    .filter((s) => !s.internal)
    .map((s) => {
      const group = s.progressGroup ? (members.get(s.progressGroup) ?? [s]) : [s];
      return {
        step: s.instruction ?? s.name,
        cached: s.cached,
        vertices: group.length,
        cachedVertices: group.filter((m) => m.cached).length,
        ...(s.error ? { error: s.error } : {}),
        ...(s.durationMs !== undefined ? { durationMs: s.durationMs } : {}),
        ...(s.log ? { log: s.log } : {}),
      };
    });
}
