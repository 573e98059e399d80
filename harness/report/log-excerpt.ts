import { readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";

const LINES = 40;
const CHARS = 6000;

/** The last lines of a daemon log the recorder wrote under `dir` (undefined when it cannot be read or is outside `dir`). */
export function logExcerpt(dir: string, rel: string): string | undefined {
  const path = join(dir, rel);
  const inside = relative(dir, path);
  if (!rel || isAbsolute(rel) || inside.startsWith("..")) return undefined;
  try {
    const text = readFileSync(path, "utf8");
    const tail = text.trimEnd().split("\n").slice(-LINES).join("\n");
    return tail.length > CHARS ? `…${tail.slice(-CHARS)}` : tail;
  } catch {
    return undefined;
  }
}
