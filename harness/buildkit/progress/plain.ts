/**
 * Read `buildctl --progress=plain` output into steps.
 *
 * A step is `#N <name>`; later lines `#N ...` are its statuses and logs, ending with
 * `#N CACHED`, `#N DONE 0.1s`, `#N ERROR: <text>` or `#N CANCELED`. When the printer switches
 * between vertices it prints `#N ...` and repeats `#N <name>`; those are skipped.
 *
 * Limits (see StepResult): no digests (the vertex is `#N`), a progress group such as
 * `COPY --link` is one step, and `cached` is what the vertex's last update said, so steps
 * restored from an imported cache may show as DONE: plain undercounts cache hits.
 */
import { appendLog, describeVertexName, type ParsedProgress, parsedProgress, type StepResult } from "./step.ts";

const STEP_LINE = /^#(\d+) (.*)$/;
const DONE = /^DONE(?: (\d+(?:\.\d+)?)s)?$/;

export function parsePlainProgress(text: string): ParsedProgress {
  const steps = new Map<number, StepResult>();
  const otherLines: string[] = [];
  const buildWarnings: string[] = [];
  const parseWarnings: string[] = [];

  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const m = STEP_LINE.exec(line);
    if (!m || m[1] === "0") {
      otherLines.push(line);
      continue;
    }
    const index = Number(m[1]);
    const rest = m[2]!;
    const step = steps.get(index);
    if (!step) {
      steps.set(index, { vertex: `#${index}`, name: rest, ...describeVertexName(rest), cached: false });
      continue;
    }
    if (rest === step.name || rest === "...") continue;
    if (rest === "CACHED") {
      step.cached = true;
      continue;
    }
    if (rest === "CANCELED") {
      step.canceled = true;
      continue;
    }
    const done = DONE.exec(rest);
    if (done) {
      if (done[1] !== undefined) step.durationMs = Math.round(Number(done[1]) * 1000);
      continue;
    }
    if (rest.startsWith("ERROR: ")) {
      step.error = rest.slice("ERROR: ".length);
      continue;
    }
    if (rest.startsWith("WARN: ")) {
      buildWarnings.push(rest.slice("WARN: ".length));
      continue;
    }
    // A log line is prefixed with the seconds since the step started ("0.05 hi"); anything else is a status.
    const log = /^\d+\.\d+ (.*)$/.exec(rest);
    if (log) appendLog(step, `${log[1]}\n`);
  }

  if (steps.size === 0 && otherLines.some((l) => l.startsWith("{"))) {
    parseWarnings.push("no `#N` step lines, but JSON-looking lines: is this rawjson output?");
  }

  const ordered = [...steps.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
  return parsedProgress("plain", ordered, { buildWarnings, otherLines, parseWarnings });
}
