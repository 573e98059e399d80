/**
 * The JSON stream scanner on recorded rawjson streams, and on those streams damaged the ways
 * a real stream can be (noise lines, truncation, objects run together).
 */
import { describe, expect, it } from "vitest";
import { scanJsonStream } from "../../../harness/buildkit/progress/json-stream.ts";
import { parseRawJsonProgress } from "../../../harness/buildkit/progress/rawjson.ts";
import { fixture } from "./fixtures.ts";

const jsonCount = (text: string) => scanJsonStream(text).items.filter((i) => i.kind === "json").length;

describe("scanJsonStream", () => {
  const multi = fixture("v0.13.2-rawjson-cold.txt");
  const single = fixture("v0.34.2-rawjson-cold.txt");

  it("reads indented multi-line objects (v0.13) and one-per-line objects (v0.34)", () => {
    const m = scanJsonStream(multi);
    expect(m.warnings).toEqual([]);
    expect(m.items.every((i) => i.kind === "json")).toBe(true);
    expect(m.items.length).toBe(multi.split("\n").filter((l) => l === "{").length);

    const s = scanJsonStream(single);
    expect(s.warnings).toEqual([]);
    expect(s.items.length).toBe(single.trim().split("\n").length);
  });

  it("reports the line each object starts on", () => {
    const items = scanJsonStream(multi).items;
    const lines = multi.split("\n");
    for (const item of items.slice(0, 20)) expect(lines[item.line - 1]).toBe("{");
  });

  it("reads objects run together on one line and CRLF line ends", () => {
    const lines = single.trim().split("\n");
    expect(jsonCount(lines.join(""))).toBe(lines.length);
    expect(jsonCount(lines.join("\r\n"))).toBe(lines.length);
  });

  it("is not fooled by braces and escaped quotes inside strings", () => {
    // The failing RUN's error contains \" and the Dockerfile text; add braces to a name too.
    const fail = fixture("v0.34.2-rawjson-fail.txt").replaceAll("[internal] load .dockerignore", '[internal] load {odd} \\"name\\" }{');
    const p = parseRawJsonProgress(fail);
    expect(p.steps.map((s) => s.name)).toContain('[internal] load {odd} "name" }{');
    expect(p.parseWarnings.filter((w) => !/non-JSON line/.test(w))).toEqual([]);
  });

  it("keeps a stray `{` line as text and resumes on the next line", () => {
    const lines = multi.split("\n");
    const at = lines.indexOf("{", 40);
    const damaged = [...lines.slice(0, at), "{ this is not json", ...lines.slice(at)].join("\n");
    const scan = scanJsonStream(damaged);
    expect(scan.items.filter((i) => i.kind === "text")).toEqual([{ kind: "text", text: "{ this is not json", line: at + 1 }]);
    expect(scan.warnings).toHaveLength(1);
    expect(scan.items.filter((i) => i.kind === "json")).toHaveLength(jsonCount(multi));
  });

  it("survives a stream truncated mid-object", () => {
    const cut = multi.slice(0, Math.floor(multi.length / 2));
    const scan = scanJsonStream(cut);
    expect(scan.warnings.some((w) => /never closes/.test(w))).toBe(true);
    // The tail of the open object is kept as text lines, the earlier objects as JSON.
    expect(scan.items.filter((i) => i.kind === "json").length).toBeGreaterThan(10);
    expect(() => parseRawJsonProgress(cut)).not.toThrow();
  });

  it("flags JSON that is not a SolveStatus", () => {
    const p = parseRawJsonProgress(`{"level":"warning","msg":"hello"}\n${single}`);
    expect(p.parseWarnings[0]).toMatch(/not a SolveStatus/);
    expect(p.steps.length).toBe(parseRawJsonProgress(single).steps.length);
  });

  it("handles empty input", () => {
    expect(scanJsonStream("")).toEqual({ items: [], warnings: [] });
    expect(parseRawJsonProgress("").steps).toEqual([]);
  });
});
