/**
 * Text a scenario carries reaches terminals, Markdown and HTML reports. Control characters
 * (an escape sequence can clear a screen or rewrite what a reviewer sees) and bidirectional
 * overrides (which make text read differently from what it is) are refused everywhere but
 * in file contents, which only ever reach files. A key named __proto__ is refused too: read
 * into a plain object it would replace the object's prototype instead of adding a key.
 */
import { fieldPath, type Problem } from "./validate.ts";

// Tab and newline are text; every other C0 and C1 control, DEL, and the bidi embeddings,
// overrides, isolates and marks are not.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
/** Fields whose text may span lines. */
const MULTI_LINE = new Set(["expectation", "note"]);
/** Fields that only ever become file contents. */
const CONTENT = new Set(["content"]);

export function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

const NAME_FORBIDDEN = new RegExp(`${FORBIDDEN.source}|[\\t\\n]`, "gu");

/** The first character a file or folder name must not carry (names are one line), or undefined. */
export function forbiddenInName(name: string): string | undefined {
  return name.match(NAME_FORBIDDEN)?.[0];
}

/** A path with each such character written as \u{…}, so printing it cannot drive a terminal. */
export function printable(path: string): string {
  return path.replace(NAME_FORBIDDEN, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
}

/** Every string of a parsed document (keys included) that carries a character it must not. */
export function textProblems(doc: unknown): Problem[] {
  const problems: Problem[] = [];
  const visit = (value: unknown, pointer: string, key: string): void => {
    if (typeof value === "string") {
      if (CONTENT.has(key)) return;
      const bad = FORBIDDEN.exec(value)?.[0] ?? (!MULTI_LINE.has(key) && value.includes("\n") ? "\n" : undefined);
      if (bad !== undefined) {
        const what = bad === "\n" ? "a line break (only expectation and note may span lines)" : `the character ${codePoint(bad)} (control or bidirectional)`;
        problems.push({ path: fieldPath(pointer), message: `contains ${what}; remove it` });
      }
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        visit(v, `${pointer}/${i}`, key);
      });
      return;
    }
    if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        const bad = FORBIDDEN.exec(k)?.[0];
        if (bad !== undefined) problems.push({ path: fieldPath(pointer), message: `a key contains the character ${codePoint(bad)}; remove it` });
        if (k === "__proto__")
          problems.push({ path: fieldPath(pointer, k), message: "__proto__ is a reserved name (it would replace a mapping's prototype); rename the key" });
        visit(v, `${pointer}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`, k);
      }
    }
  };
  visit(doc, "", "");
  return problems;
}
