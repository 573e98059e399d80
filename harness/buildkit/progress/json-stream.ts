/**
 * Split a stream of concatenated JSON objects, interleaved with other text lines, into its
 * parts. Handles one object per line (buildctl ≥ v0.14 rawjson), indented multi-line objects
 * (v0.13 rawjson), several objects on one line, and noise lines between objects (client log
 * lines, the error excerpt buildctl prints at the end).
 *
 * An object starts where a line's first non-blank character is `{`; its end is found by a
 * brace-depth scan that skips string contents and escapes. When the candidate does not parse
 * (or never closes), only its first line is given up as text and scanning resumes on the next
 * line, so a stray `{` cannot swallow the rest of the stream.
 */

export type JsonStreamItem = { kind: "json"; value: unknown; line: number } | { kind: "text"; text: string; line: number };

export interface JsonStreamScan {
  items: JsonStreamItem[];
  warnings: string[];
}

/** Index of the `}` closing the object that opens at `start`, or -1 if the text ends first. */
function findObjectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */) depth++;
    else if (c === 0x7d /* } */) {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function lineEnd(text: string, pos: number): number {
  const nl = text.indexOf("\n", pos);
  return nl === -1 ? text.length : nl;
}

export function scanJsonStream(text: string): JsonStreamScan {
  const items: JsonStreamItem[] = [];
  const warnings: string[] = [];
  let pos = 0;
  let line = 1;
  // Line numbers are counted lazily: `advanceTo` moves `pos` forward, counting newlines.
  const advanceTo = (to: number) => {
    for (let i = pos; i < to; i++) if (text.charCodeAt(i) === 0x0a) line++;
    pos = to;
  };

  while (pos < text.length) {
    // Skip blanks (not newlines) at the current position.
    let p = pos;
    while (p < text.length && (text[p] === " " || text[p] === "\t" || text[p] === "\r")) p++;
    if (p >= text.length) break;
    if (text[p] === "\n") {
      advanceTo(p + 1);
      continue;
    }
    const eol = lineEnd(text, p);
    if (text[p] !== "{") {
      items.push({ kind: "text", text: text.slice(pos, eol).replace(/\r$/, ""), line });
      advanceTo(Math.min(eol + 1, text.length));
      continue;
    }
    const end = findObjectEnd(text, p);
    if (end !== -1) {
      const candidate = text.slice(p, end + 1);
      try {
        items.push({ kind: "json", value: JSON.parse(candidate), line });
        advanceTo(end + 1);
        continue;
      } catch (err) {
        warnings.push(`line ${line}: unparseable JSON object (${(err as Error).message}); kept its first line as text`);
      }
    } else {
      warnings.push(`line ${line}: JSON object never closes (stream truncated?); kept its first line as text`);
    }
    items.push({ kind: "text", text: text.slice(pos, eol).replace(/\r$/, ""), line });
    advanceTo(Math.min(eol + 1, text.length));
  }
  return { items, warnings };
}
