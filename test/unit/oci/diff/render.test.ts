import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, type Explanation, renderExplanationMarkdown, renderExplanationText } from "../../../../harness/oci/diff/index.ts";

const DIGEST_A = `sha256:${"a".repeat(64)}`;
const DIGEST_B = `sha256:${"b".repeat(64)}`;

function explanation(overrides: Partial<Explanation>): Explanation {
  return {
    schemaVersion: 1,
    result: "different",
    summary: "only other fields differ (config config.Cmd)",
    platform: "linux/amd64",
    a: { store: "memory", reference: DIGEST_A, manifest: { digest: DIGEST_A, mediaType: "m", size: 1 } },
    b: { store: "memory", reference: DIGEST_B, manifest: { digest: DIGEST_B, mediaType: "m", size: 1 } },
    levels: { index: "absent", manifest: "different", config: "different", layers: "same" },
    layers: [],
    causes: [],
    differences: [],
    omittedDifferences: 0,
    limits: DEFAULT_LIMITS,
    ...overrides,
  };
}

describe("renderExplanationMarkdown", () => {
  it("escapes pipes and backticks so a value cannot break the table", () => {
    const md = renderExplanationMarkdown(
      explanation({
        differences: [
          { level: "config", cause: "other", change: "changed", subject: "config.Cmd", before: ["sh", "-c", "a | b"], after: "`x`", note: "one | two" },
        ],
      }),
    );
    const row = md.split("\n").find((l) => l.startsWith("| ~ |"))!;
    expect(row).toBe('| ~ | `config.Cmd` | other | `["sh","-c","a \\| b"]` | `` `x` `` | one \\| two |');
    expect(row.split(/(?<!\\)\|/).length).toBe(8);
  });

  it("says how many differences were counted but not listed", () => {
    const md = renderExplanationMarkdown(explanation({ omittedDifferences: 7 }));
    expect(md).toContain("_7 more differences are counted above but not listed (limits: 100 per layer, 200 in documents)._");
  });
});

describe("level statuses in Markdown", () => {
  it("writes every status in words", () => {
    const md = renderExplanationMarkdown(explanation({ levels: { index: "different", manifest: "same", config: "not-compared", layers: "not-compared" } }));
    expect(md).toContain("| index | different |");
    expect(md).toContain("| manifest (linux/amd64) | same |");
    expect(md).toContain("| config | not compared |");
    expect(md).toContain("| layers | not compared |");
  });
});

describe("renderExplanationText", () => {
  it("shows an error with its hint", () => {
    const text = renderExplanationText(
      explanation({ result: "error", summary: "error: gone", error: { code: "REGISTRY_ERROR", message: "gone", hint: "start it" } }),
    );
    expect(text.split("\n").slice(0, 2)).toEqual(["error: gone", "  → start it"]);
  });
});
