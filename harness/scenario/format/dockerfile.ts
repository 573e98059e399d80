/**
 * Just enough of the Dockerfile syntax to know what a scenario's Dockerfile makes BuildKit
 * fetch, and which instructions it has: parser directives, line continuations (with the
 * escape directive), comments, heredocs, stage names, and the flags that name images
 * (FROM, COPY/ADD --from, RUN --mount from=). It runs on the templated text, so
 * `{{image:busybox}}` already reads as the test registry reference it resolves to.
 */

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  readonly args: string;
  /** 1-based line where it starts. */
  readonly line: number;
}

export interface ParsedDockerfile {
  /** Parser directives from the top of the file (`# syntax=…`, `# escape=…`, `# check=…`), lower-case keys. */
  readonly directives: Readonly<Record<string, string>>;
  /** The 1-based line of a syntax directive in any form the frontend reads (see detectSyntax). */
  readonly syntaxLine?: number;
  readonly instructions: readonly Instruction[];
}

const DIRECTIVE_BODY = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

/**
 * Where BuildKit's Dockerfile frontend would find a frontend image to pull
 * (parser.DetectSyntax): after an optional `#!` first line, a `syntax` directive among the
 * leading comment lines written `# syntax=…` or `// syntax=…`, or the "syntax" key of a
 * Dockerfile that is a JSON object. Stricter than BuildKit, which stops at the first
 * unknown directive: every leading directive line counts here.
 */
function detectSyntax(text: string): number | undefined {
  const body = text.replace(/^\uFEFF/, "");
  const lines = body.split("\n").map((l) => l.replace(/\r$/, ""));
  const start = lines[0]?.startsWith("#!") ? 1 : 0;
  for (const comment of ["#", "//"]) {
    for (let i = start; i < lines.length && lines[i]!.startsWith(comment); i++) {
      const m = DIRECTIVE_BODY.exec(lines[i]!.slice(comment.length).trimStart());
      if (!m) break;
      if (m[1]!.toLowerCase() === "syntax") return i + 1;
    }
  }
  for (const json of [body, lines.slice(start).join("\n")]) {
    try {
      const value: unknown = JSON.parse(json);
      if (value !== null && typeof value === "object" && !Array.isArray(value) && "syntax" in value) return start + 1;
    } catch {
      // Not JSON: an ordinary Dockerfile.
    }
  }
  return undefined;
}

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;
const HEREDOC = /<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = text.split(/\r?\n/);
  const directives: Record<string, string> = {};
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m || m[1]!.toLowerCase() in directives) break;
    directives[m[1]!.toLowerCase()] = m[2]!;
  }
  const escapeChar = directives.escape === "`" ? "`" : "\\";
  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const start = i;
    let line = lines[i++]!;
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    let joined = "";
    // A line ending in the escape character continues; comment lines inside are dropped.
    while (line.trimEnd().endsWith(escapeChar) && i < lines.length) {
      joined += `${line.trimEnd().slice(0, -1)} `;
      line = lines[i++]!;
      while (i < lines.length && line.trimStart().startsWith("#")) line = lines[i++]!;
    }
    joined += line;
    const m = /^\s*(\S+)\s*(.*)$/s.exec(joined);
    if (!m) continue;
    const args = m[2]!.trim();
    instructions.push({ keyword: m[1]!.toUpperCase(), args, line: start + 1 });
    // Heredoc bodies are data, not instructions: skip to each terminator in turn.
    for (const h of args.matchAll(HEREDOC)) {
      const strip = h[1] === "-";
      while (i < lines.length && (strip ? lines[i]!.replace(/^\t+/, "") : lines[i]!) !== h[3]) i++;
      i++;
    }
  }
  const syntaxLine = detectSyntax(text);
  return { directives, ...(syntaxLine !== undefined ? { syntaxLine } : {}), instructions };
}

/** Flags at the start of args (`--from=x --link`), and what follows them. */
export function splitFlags(args: string): { flags: Map<string, string[]>; rest: string } {
  const flags = new Map<string, string[]>();
  let rest = args;
  for (;;) {
    const m = /^--([a-zA-Z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!m) break;
    const name = m[1]!.toLowerCase();
    flags.set(name, [...(flags.get(name) ?? []), m[2] ?? ""]);
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** `type=cache,from=x,target=/y` → its fields (no CSV quoting in practice for these). */
export function mountFields(value: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of value.split(",")) {
    const eq = part.indexOf("=");
    fields.set((eq === -1 ? part : part.slice(0, eq)).toLowerCase(), eq === -1 ? "" : part.slice(eq + 1));
  }
  return fields;
}

/** Whitespace collapsed, so a step's text matches however the Dockerfile wraps it. */
export function normalizeInstruction(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The text of an instruction as BuildKit names its vertex: `RUN echo hi`. */
export function instructionText(i: Instruction): string {
  return normalizeInstruction(`${i.keyword} ${i.args}`);
}
