/**
 * Reads fields out of parsed YAML while keeping the path to each one, so every problem
 * is reported as "<file>: <path>: expected X, found Y". Problems are collected, not
 * thrown, so a contributor sees all of them at once.
 */
export class FieldReader {
  readonly problems: string[] = [];

  problem(path: string, message: string): void {
    this.problems.push(`${path || "(top level)"}: ${message}`);
  }

  static describe(value: unknown): string {
    if (value === undefined) return "nothing";
    if (value === null) return "null";
    if (Array.isArray(value)) return `a list of ${value.length}`;
    if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    if (typeof value === "object") return `a mapping with keys ${Object.keys(value).join(", ") || "(none)"}`;
    return `${typeof value} ${String(value)}`;
  }

  object(value: unknown, path: string): Record<string, unknown> | undefined {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    this.problem(path, `expected a mapping, found ${FieldReader.describe(value)}`);
    return undefined;
  }

  /** Flags keys other than `allowed`: a misspelt key must not be silently ignored. */
  onlyKeys(obj: Record<string, unknown>, path: string, allowed: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!allowed.includes(key)) this.problem(`${path}.${key}`.replace(/^\./, ""), `unknown key "${key}" (allowed: ${allowed.join(", ")})`);
    }
  }

  string(obj: Record<string, unknown>, key: string, path: string, opts: { optional?: boolean; pattern?: RegExp } = {}): string | undefined {
    const value = obj[key];
    const at = path ? `${path}.${key}` : key;
    if (value === undefined) {
      if (!opts.optional) this.problem(at, "is required");
      return undefined;
    }
    if (typeof value !== "string" || value.trim() === "") {
      this.problem(at, `expected a non-empty string, found ${FieldReader.describe(value)}`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(value)) {
      this.problem(at, `${JSON.stringify(value)} does not match ${opts.pattern}`);
      return undefined;
    }
    return value;
  }

  integer(obj: Record<string, unknown>, key: string, path: string, opts: { min: number; optional?: boolean }): number | undefined {
    const value = obj[key];
    const at = `${path}.${key}`;
    if (value === undefined) {
      if (!opts.optional) this.problem(at, "is required");
      return undefined;
    }
    if (typeof value !== "number" || !Number.isInteger(value) || value < opts.min) {
      this.problem(at, `expected an integer ≥ ${opts.min}, found ${FieldReader.describe(value)}`);
      return undefined;
    }
    return value;
  }

  boolean(obj: Record<string, unknown>, key: string, path: string): boolean {
    const value = obj[key];
    if (value === undefined) return false;
    if (typeof value !== "boolean") {
      this.problem(`${path}.${key}`, `expected true or false, found ${FieldReader.describe(value)}`);
      return false;
    }
    return value;
  }

  list(obj: Record<string, unknown>, key: string, path: string, opts: { optional?: boolean; nonEmpty?: boolean } = {}): unknown[] {
    const value = obj[key];
    const at = path ? `${path}.${key}` : key;
    if (value === undefined) {
      if (!opts.optional) this.problem(at, "is required");
      return [];
    }
    if (!Array.isArray(value)) {
      this.problem(at, `expected a list, found ${FieldReader.describe(value)}`);
      return [];
    }
    if (opts.nonEmpty && value.length === 0) this.problem(at, "must not be empty");
    return value;
  }

  /** A mapping of string → string (build args, attributes); numbers and booleans are taken as written. */
  stringMap(obj: Record<string, unknown>, key: string, path: string): Record<string, string> {
    const value = obj[key];
    if (value === undefined) return {};
    const map = this.object(value, `${path}.${key}`);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(map ?? {})) {
      if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") out[k] = String(v);
      else this.problem(`${path}.${key}.${k}`, `expected a string, found ${FieldReader.describe(v)}`);
    }
    return out;
  }
}
