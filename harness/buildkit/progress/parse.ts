/** Read a progress stream of either format into steps. */
import { parsePlainProgress } from "./plain.ts";
import { parseRawJsonProgress } from "./rawjson.ts";
import type { ParsedProgress, ProgressFormat } from "./step.ts";

export function parseProgress(format: ProgressFormat, text: string): ParsedProgress {
  return format === "rawjson" ? parseRawJsonProgress(text) : parsePlainProgress(text);
}
