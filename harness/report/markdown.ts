import type { ResultRecord, ResultsDocument } from "./model.ts";

const MARK: Record<string, string> = {
  pass: "✅ pass",
  "known-bug-reproduced": "🐛 known bug",
  "unexpected-pass": "❗ unexpected pass",
  fail: "❌ fail",
  inconclusive: "❔ inconclusive",
  "not-applicable": "➖ n/a",
  "infrastructure-error": "⚠️ infra error",
  "not-run": "⏹️ not run",
};

const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");
const short = (digest: string | undefined) => (digest ? `\`${digest.replace(/^sha256:/, "").slice(0, 12)}\`` : "–");

/** Scenario rows × version columns: the matrix a run is read by. */
function verdictMatrix(doc: ResultsDocument): string[] {
  const versions = doc.versions.map((v) => v.version);
  const find = (scenario: string, version: string) => doc.results.find((r) => r.scenario === scenario && r.version === version);
  return [
    `| scenario | ${versions.join(" | ")} |`,
    `|---|${versions.map(() => "---").join("|")}|`,
    ...doc.scenarios.map((s) => `| ${s.id} | ${versions.map((v) => MARK[find(s.id, v)?.verdict.kind ?? ""] ?? "").join(" | ")} |`),
    "",
  ];
}

function buildTable(r: ResultRecord): string[] {
  const rows = ["| # | build | iteration | exit | config digest | image digest | steps cached |", "|---|---|---|---|---|---|---|"];
  for (const a of r.attempts) {
    for (const b of a.builds) {
      const image = b.outputs.find((o) => o.image)?.image;
      rows.push(
        `| ${a.attempt !== undefined ? `${a.attempt}.` : ""}${b.sequence} | ${b.build} | ${b.iteration ?? "–"} | ${b.exitCode}${b.crash ? " (crash)" : ""} | ${short(image?.configDigest)} | ${short(image?.indexDigest ?? image?.manifestDigest)} | ${b.steps.filter((s) => s.cached).length}/${b.steps.length} |`,
      );
    }
  }
  return rows;
}

/** A summary for people and for GitHub job summaries: the matrix, what needs attention, then each result's evidence. */
export function renderMarkdown(doc: ResultsDocument): string {
  const out: string[] = [`# buildkit-repro run ${doc.run.id}${doc.run.complete ? "" : " (interrupted)"}`, "", ...verdictMatrix(doc)];
  const loud = doc.results.filter((r) => r.verdict.loud);
  if (doc.invalidScenarios.length > 0) {
    out.push("## Scenarios refused before anything ran", "", ...doc.invalidScenarios.map((i) => `- ${i.folder}: ${cell(i.message)}`), "");
  }
  if (loud.length > 0) {
    out.push("## Needs attention", "", "| scenario | version | verdict | what was observed |", "|---|---|---|---|");
    for (const r of loud) out.push(`| ${r.scenario} | ${r.version} | ${MARK[r.verdict.kind]} | ${cell(r.verdict.reason)} |`);
    out.push("");
  }
  out.push("## Versions", "");
  for (const v of doc.versions) {
    out.push(
      `- **${v.version}** (${v.status}): daemon ${v.buildkit?.description ?? "–"}; buildctl ${v.buildctl ?? "–"}; registry ${v.registry?.description ?? "–"}${v.fault ? `; ${v.fault.code}: ${cell(v.fault.message)}` : ""}`,
    );
  }
  out.push("");
  for (const r of doc.results) {
    const s = doc.scenarios.find((x) => x.id === r.scenario);
    out.push(`### ${r.scenario} on ${r.version}: ${MARK[r.verdict.kind]}`, "", `${cell(r.verdict.reason)}`, "");
    if (s) out.push(`Upstream: ${s.upstream.join(", ")}. Users expect: ${cell(s.expectation.trim())}`, "");
    for (const a of r.attempts) {
      for (const o of a.outcomes) {
        out.push(
          `- ${a.attempt !== undefined ? `attempt ${a.attempt}: ` : ""}**${o.status}** (${o.role}) ${o.description}: expected ${cell(o.expected)}; observed ${cell(o.actual)}`,
        );
      }
    }
    if (r.attempts.some((a) => a.builds.length > 0)) out.push("", ...buildTable(r));
    const logs = r.attempts.flatMap((a) => a.daemons.map((d) => d.log)).filter(Boolean);
    if (logs.length > 0) out.push("", `Daemon logs: ${logs.map((l) => `[${l.split("/").at(-1)}](${l})`).join(", ")}`);
    out.push("");
  }
  out.push(
    `**Totals:** ${Object.entries(doc.counts)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(", ")}`,
  );
  return `${out.join("\n")}\n`;
}
