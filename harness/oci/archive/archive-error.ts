import { HarnessError } from "../../errors.ts";

/**
 * A refusal of an image archive: names the archive and the file inside it, says what was
 * found and what to do. Never quotes file contents; names from the archive are quoted
 * with control and bidirectional characters escaped, so they cannot rewrite a terminal.
 */
export function archiveError(archive: string, file: string | undefined, problem: string, hint: string): HarnessError {
  return new HarnessError("IMAGE_ARCHIVE_INVALID", `${archive}${file === undefined ? "" : `: ${quoteName(file)}`}: ${problem}`, hint);
}

const MAX_QUOTED = 200;
// C0/C1 controls, DEL, and the bidi embedding/override/isolate marks.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A name from an archive, safe to print. */
export function quoteName(name: string): string {
  const shown = name.length > MAX_QUOTED ? `${name.slice(0, MAX_QUOTED)}…` : name;
  return `"${shown.replace(/["\\]/g, (c) => `\\${c}`).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)}"`;
}

export const HINT_REPACK =
  "Recreate the archive with `docker save`, `buildctl --output type=oci`, `skopeo copy` or `crane pull --format=oci`, without editing it by hand.";
