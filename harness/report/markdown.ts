import type { ScenarioRun } from "../scenario/runner.ts";
import type { RunResults } from "./results.ts";

const MARK: Record<string, string> = {
  pass: "✅ pass",
  "known-bug-reproduced": "🐛 known bug reproduced",
  "unexpected-pass": "❗ UNEXPECTED PASS",
  fail: "❌ FAIL",
  "not-applicable": "➖ not applicable",
  "infrastructure-error": "⚠️ INFRASTRUCTURE ERROR",
};

function short(digest: string | undefined): string {
  return digest ? `\`${digest.slice(7, 19)}\`` : "–";
}

function buildTable(run: ScenarioRun): string[] {
  const lines = [
    "| # | build | iteration | exit | config digest | image digest | steps cached | inline cache: records (with chains) | records that lost results since the previous run |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const b of run.builds) {
    const cached = `${b.steps.filter((s) => s.cached).length}/${b.steps.length}`;
    const ic = b.inlineCache;
    const records = ic ? `${ic.records} (${ic.recordsWithChains})` : "–";
    const lost = !ic
      ? "–"
      : ic.lostSincePreviousRun.length === 0
        ? "none"
        : ic.lostSincePreviousRun.map((l) => `${short(l.digest)} lost ${l.lost.join("+")}`).join(", ");
    lines.push(
      `| ${b.sequence} | ${b.build} | ${b.iteration ?? "–"} | ${b.exitCode} | ${short(b.configDigest)} | ${short(b.imageDigest)} | ${cached} | ${records} | ${lost} |`,
    );
  }
  return lines;
}

const SHORT: Record<string, string> = {
  pass: "✅ pass",
  "known-bug-reproduced": "🐛 known bug",
  "unexpected-pass": "❗ unexpected pass",
  fail: "❌ fail",
  "not-applicable": "➖ n/a",
  "infrastructure-error": "⚠️ infra error",
};

/** Scenario rows × version columns: the matrix a nightly run is read by. */
function verdictMatrix(results: RunResults): string[] {
  const versions = results.environments.map((e) => e.environment.buildkitVersion);
  const scenarios = [...new Set(results.environments.flatMap((e) => e.results.map((r) => r.scenario)))];
  const cell = (scenario: string, version: string) => {
    const r = results.environments.find((e) => e.environment.buildkitVersion === version)?.results.find((x) => x.scenario === scenario);
    return r ? SHORT[r.verdict.kind] : "";
  };
  return [
    `| scenario | ${versions.join(" | ")} |`,
    `|---|${versions.map(() => "---").join("|")}|`,
    ...scenarios.map((s) => `| ${s} | ${versions.map((v) => cell(s, v)).join(" | ")} |`),
    "",
  ];
}

/** A summary for people and for GitHub job summaries: the verdict matrix, then each scenario's evidence. */
export function renderMarkdown(results: RunResults): string {
  const out: string[] = [`# buildkit-repro run ${results.runId}`, "", ...verdictMatrix(results)];
  for (const env of results.environments) {
    const d = env.environment;
    out.push(
      `## BuildKit ${d.buildkitVersion}`,
      "",
      `- daemon: ${d.buildkitImage.description}`,
      `- buildctl: ${d.buildctl.version}`,
      `- registry: ${d.registryImage.description}`,
      `- privilege: ${d.privilege}; engine: Docker ${d.engine.serverVersion} (${d.engine.provenance})`,
      `- environment start to ready: ${env.timings.startToReadyMs} ms`,
      "",
      "| scenario | verdict | reason |",
      "|---|---|---|",
      ...env.results.map((r) => `| ${r.scenario} | ${MARK[r.verdict.kind]} | ${r.verdict.reason.replaceAll("|", "\\|").replaceAll("\n", " ")} |`),
      "",
    );
    for (const r of env.results) {
      const declared = r.knownBugs.length === 0 ? "none" : r.knownBugs.map((b) => `${b.versions} (${b.reference})`).join("; ");
      out.push(
        `### ${r.scenario}: ${r.title}`,
        "",
        `Upstream: ${r.upstream.join(", ")}`,
        "",
        `Users expect: ${r.expectation.trim()}`,
        "",
        `Known bug declared on: ${declared}`,
        "",
        `Verdict: **${MARK[r.verdict.kind]}** — ${r.verdict.reason}`,
        "",
      );
      for (const o of r.outcomes) {
        out.push(`- ${o.holds ? "holds" : "**does not hold**"}: ${o.description}. Expected ${o.expected}; actual ${o.actual}.`);
      }
      if (r.builds.length > 0) out.push("", ...buildTable(r));
      out.push("");
    }
  }
  const c = results.counts;
  out.push(
    `**Totals:** ${Object.entries(c)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ")}`,
  );
  if (results.loud.length > 0) out.push("", `**${results.loud.length} result(s) need attention** (unexpected pass, fail or infrastructure error).`);
  return `${out.join("\n")}\n`;
}
