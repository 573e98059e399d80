import { describe, expect, it } from "vitest";
import { boundValue, diffJson, formatPath } from "../../../../harness/oci/diff/json-diff.ts";

describe("diffJson", () => {
  it("lists changed, added and removed fields by path", () => {
    expect(diffJson({ a: 1, b: { c: [1, 2] }, gone: true }, { a: 2, b: { c: [1, 2, 3] }, new: null })).toEqual([
      { path: ["a"], change: "changed", before: 1, after: 2 },
      { path: ["b", "c", 2], change: "added", after: 3 },
      { path: ["gone"], change: "removed", before: true },
      { path: ["new"], change: "added", after: null },
    ]);
  });

  it("reports an array with the same elements in another order once, at that array", () => {
    const a = { history: [{ x: 1 }, { x: 2 }], env: ["A", "A", "B"] };
    const b = { history: [{ x: 2 }, { x: 1 }], env: ["A", "B", "A"] };
    expect(diffJson(a, b)).toEqual([
      { path: ["history"], change: "reordered", before: a.history, after: b.history },
      { path: ["env"], change: "reordered", before: a.env, after: b.env },
    ]);
  });

  it("compares arrays index by index when the elements are not the same", () => {
    expect(diffJson(["a", "b"], ["b", "c"])).toEqual([
      { path: [0], change: "changed", before: "a", after: "b" },
      { path: [1], change: "changed", before: "b", after: "c" },
    ]);
  });

  it("compares scalars and mismatched containers as one change", () => {
    expect(diffJson("x", "y")).toEqual([{ path: [], change: "changed", before: "x", after: "y" }]);
    expect(diffJson({ a: 1 }, [1])).toEqual([{ path: [], change: "changed", before: { a: 1 }, after: [1] }]);
    expect(diffJson({ a: { b: 1 } }, { a: { b: 1 } })).toEqual([]);
  });
});

describe("formatPath", () => {
  it("writes dotted fields, indexes and quoted keys", () => {
    expect(formatPath(["history", 2, "created"])).toBe("history[2].created");
    expect(formatPath(["config", "Labels", "org.opencontainers.image.created"])).toBe('config.Labels["org.opencontainers.image.created"]');
    expect(formatPath(["moby.buildkit.buildinfo.v1", "sources", 0, "pin"])).toBe("moby.buildkit.buildinfo.v1.sources[0].pin");
    expect(formatPath([])).toBe("(document)");
  });
});

describe("boundValue", () => {
  it("cuts long strings and documents and says by how much", () => {
    expect(boundValue("abcdef", 4)).toBe("abcd… (2 more characters)");
    expect(boundValue({ k: "abcdef" }, 6)).toBe('{"k":"… (8 more characters)');
    expect(boundValue({ k: 1 }, 100)).toEqual({ k: 1 });
    expect(boundValue(12345, 2)).toBe(12345);
  });
});
