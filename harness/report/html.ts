/**
 * index.html: one self-contained page (inline style and script, nothing fetched): the
 * change since the previous run, the verdict matrix with colours, a legend and filters by
 * tag and verdict, and a drill-down per scenario × version. Each cell's details are JSON
 * in a <script type="application/json">, parsed only when the cell is opened, so a
 * 30-version matrix opens fast.
 */

import { cellDetails } from "./cell-details.ts";
import type { Comparison } from "./compare.ts";
import type { ResultsDocument } from "./model.ts";
import { PAGE_SCRIPT, PAGE_STYLE, verdictStyle } from "./page-assets.ts";
import { resultAnchor, resultIndex, VERDICT_ORDER, verdictLabel } from "./verdicts.ts";

export interface PageOptions {
  readonly comparison?: Comparison;
  /** The end of a daemon log, by its path relative to the report folder. */
  readonly logExcerpt?: (path: string) => string | undefined;
}

function htmlEscape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

/** JSON that cannot end its <script> element or be read as markup. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll(">", "\\u003e")
    .replaceAll("&", "\\u0026")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

const CHANGES_UNFOLDED = 15;

function comparisonHtml(c: Comparison | undefined): string {
  if (!c) return "";
  const head = "<h2>Change since the previous run</h2>";
  if (c.status === "none") return `${head}<p>Nothing to compare with: ${htmlEscape(c.reason)}.</p>`;
  if (c.status === "unreadable") return `${head}<p>Could not compare with ${htmlEscape(c.path)}: ${htmlEscape(c.reason)}.</p>`;
  const against = `run ${htmlEscape(c.previous.id)} (started ${htmlEscape(c.previous.startedAt)})`;
  if (c.changes.length === 0) return `${head}<p id="changes">No verdict changed since ${against}: ${c.unchanged} results compared.</p>`;
  const name = (k: string | undefined) => (k ? `<span class="chip v-${htmlEscape(k)}">${htmlEscape(verdictLabel(k as never).label)}</span>` : "(no result)");
  const rows = c.changes.map(
    (ch) =>
      `<tr><td>${htmlEscape(ch.scenario)}</td><td>${htmlEscape(ch.version)}</td><td>${name(ch.before)}</td><td>${ch.after ? `<a href="#${resultAnchor(ch.scenario, ch.version)}">${name(ch.after)}</a>` : name(undefined)}</td></tr>`,
  );
  // A long list stays folded so that the matrix is still near the top.
  return `${head}<details${c.changes.length <= CHANGES_UNFOLDED ? " open" : ""}><summary>${c.changes.length} verdicts changed since ${against}; ${c.unchanged} unchanged.</summary><table id="changes"><thead><tr><th>scenario</th><th>version</th><th>before</th><th>now</th></tr></thead><tbody>${rows.join("")}</tbody></table></details>`;
}

export function renderHtml(doc: ResultsDocument, options: PageOptions = {}): string {
  const find = resultIndex(doc.results);
  const versions = doc.versions.map((v) => v.version);
  const excerpt = options.logExcerpt ?? (() => undefined);
  const used = VERDICT_ORDER.filter(
    (k) => doc.results.some((r) => r.verdict.kind === k) || (k === "not-run" && doc.results.length < doc.scenarios.length * versions.length),
  );
  const tags = [...new Set(doc.scenarios.flatMap((s) => s.tags))].sort();
  const labels = Object.fromEntries(VERDICT_ORDER.map((k) => [k, verdictLabel(k)]));

  const rows: string[] = [];
  const data: string[] = [];
  for (const s of doc.scenarios) {
    const cells = versions.map((v) => {
      const r = find(s.id, v);
      const kind = r?.verdict.kind ?? "not-run";
      const id = resultAnchor(s.id, v);
      const l = verdictLabel(kind);
      data.push(`<script type="application/json" id="d-${id}">${scriptJson(cellDetails(s, v, r, excerpt))}</script>`);
      return `<td class="cell v-${kind}" id="${id}" data-verdict="${kind}" tabindex="0" title="${htmlEscape(`${s.id} on ${v}: ${l.label}`)}">${l.mark}</td>`;
    });
    rows.push(`<tr data-tags="${htmlEscape(s.tags.join(" "))}"><th scope="row" title="${htmlEscape(s.title)}">${htmlEscape(s.id)}</th>${cells.join("")}</tr>`);
  }
  const totals = VERDICT_ORDER.filter((k) => (doc.counts[k] ?? 0) > 0).map((k) => `${doc.counts[k]} ${verdictLabel(k).label}`);
  const versionLines = doc.versions.map(
    (v) =>
      `<li><strong>${htmlEscape(v.version)}</strong>${v.judgedAs ? ` judged as ${htmlEscape(v.judgedAs)}` : ""} (${htmlEscape(v.status)}): ${htmlEscape(v.buildkit?.description ?? "–")}${v.fault ? ` · ${htmlEscape(v.fault.code)}: ${htmlEscape(v.fault.message)}` : ""}</li>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>buildkit-repro run ${htmlEscape(doc.run.id)}</title>
<style>${PAGE_STYLE}${verdictStyle()}</style></head>
<body>
<h1>buildkit-repro run ${htmlEscape(doc.run.id)}${doc.run.complete ? "" : ' <span class="fails">(interrupted: what did not run is marked not run)</span>'}</h1>
<p>${htmlEscape(doc.run.startedAt)} to ${htmlEscape(doc.run.finishedAt)} on ${htmlEscape(doc.run.host)} · harness ${htmlEscape(doc.harness.version)} · ${doc.results.length} results: ${htmlEscape(totals.join(", ") || "none")} · <a href="results.json">results.json</a> · <a href="summary.md">summary.md</a> · <a href="junit.xml">junit.xml</a></p>
${comparisonHtml(options.comparison)}
<h2>Verdicts</h2>
<p class="legend">${used.map((k) => `<span class="v-${k}">${verdictLabel(k).mark} ${htmlEscape(verdictLabel(k).label)}</span>`).join("")}</p>
<div class="filters"><label>tag <select id="tag"><option value="">all</option>${tags.map((t) => `<option>${htmlEscape(t)}</option>`).join("")}</select></label>
${used.map((k) => `<label><input type="checkbox" name="verdict" value="${k}" checked> ${htmlEscape(verdictLabel(k).label)}</label>`).join("")}</div>
<table id="matrix"><thead><tr><th>scenario</th>${versions.map((v) => `<th class="v" scope="col">${htmlEscape(v)}</th>`).join("")}</tr></thead>
<tbody>${rows.join("\n")}</tbody></table>
<section id="detail" hidden></section>
<h2>Versions</h2><ul>${versionLines.join("")}</ul>
${doc.invalidScenarios.length ? `<h2>Scenarios refused before anything ran</h2><ul>${doc.invalidScenarios.map((i) => `<li>${htmlEscape(i.folder)}: ${htmlEscape(i.message)}</li>`).join("")}</ul>` : ""}
<script type="application/json" id="labels">${scriptJson(labels)}</script>
${data.join("\n")}
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
