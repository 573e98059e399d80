/** The inline style and script of index.html: no network at view time. */
import { VERDICT_ORDER, verdictLabel } from "./verdicts.ts";

export const PAGE_STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.4em}
table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
#matrix th.v{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:normal;white-space:nowrap}
#matrix td.cell{cursor:pointer;text-align:center;min-width:1.6em;color:#fff;font-size:12px}
#matrix td.cell:focus,#matrix td.cell.open{outline:3px solid #000}
#matrix td.dim{opacity:.15}
#matrix tr.hidden{display:none}
.legend span,.chip{display:inline-block;padding:1px 6px;margin:2px;border-radius:3px;color:#fff}
.filters{margin:.6em 0}.filters label{margin-right:.8em}
#detail{border-top:2px solid #444;margin-top:1em;padding-top:.5em}
#detail pre{background:#f6f6f6;padding:6px;overflow:auto;max-height:20em;white-space:pre-wrap}
.hit{color:#2e7d32}.miss{color:#c62828}.fails{color:#c62828;font-weight:bold}.holds{color:#2e7d32}.inconclusive{color:#f9a825}
code{font-size:12px}.changed{background:#fff3e0}
`;

/** Verdict colours for cells and the legend, from the same labels every report uses. */
export function verdictStyle(): string {
  return VERDICT_ORDER.map((k) => `.v-${k}{background:${verdictLabel(k).colour}}`).join("\n");
}

/**
 * Renders a drill-down from the JSON embedded for its cell, with DOM calls only (never
 * innerHTML): everything in it came from scenarios and daemon logs.
 */
export const PAGE_SCRIPT = `
(function(){
"use strict";
var LABELS = JSON.parse(document.getElementById("labels").textContent);
function el(tag, attrs){
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) { if (attrs[k] !== undefined) e.setAttribute(k, attrs[k]); }
  for (var i = 2; i < arguments.length; i++) {
    var c = arguments[i];
    if (c === undefined || c === null) continue;
    if (Array.isArray(c)) c.forEach(function(x){ if (x !== undefined && x !== null) e.appendChild(typeof x === "string" ? document.createTextNode(x) : x); });
    else e.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
  return e;
}
function short(d){ return d ? d.replace(/^sha256:/, "").slice(0, 12) : "–"; }
function val(v){ return v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v); }
function safeLink(u){ return /^https?:\\/\\//.test(u) ? el("a", {href: u, rel: "noreferrer"}, u) : el("span", null, u); }
function table(head, rows){
  return el("table", null, el("thead", null, el("tr", null, head.map(function(h){ return el("th", null, h); }))),
    el("tbody", null, rows.map(function(r){ return el("tr", null, r.map(function(c){ return el("td", null, c); })); })));
}
function outcomes(a){
  return table(["assertion", "status", "role", "expected", "observed"], a.outcomes.map(function(o){
    var observed = [el("div", null, o.actual)];
    if (o.firstViolation) observed.push(el("div", null, "first at build " + o.firstViolation.sequence + (o.firstViolation.iteration !== undefined ? ", iteration " + o.firstViolation.iteration : "")));
    if (o.explanation) {
      observed.push(el("div", {"class": "explanation"}, el("strong", null, "why the digests differ: "), o.explanation.summary));
      if (o.explanation.differences.length) observed.push(table(["level", "cause", "change", "where", "a", "b"], o.explanation.differences.map(function(d){
        return [d.level, d.cause, d.change, el("code", null, d.subject + (d.field ? " " + d.field : "")), el("code", null, val(d.before)), el("code", null, val(d.after))];
      })));
      if (o.explanation.omitted > 0) observed.push(el("div", null, o.explanation.omitted + " more differences in results.json"));
    }
    return [o.description, el("span", {"class": o.status}, o.status), o.role, o.expected, el("div", null, observed)];
  }));
}
function builds(a){
  var firstConfig = {};
  return table(["#", "build", "iteration", "exit", "steps (cached / run)", "config", "manifest", "index", "layers"], a.builds.map(function(b){
    var img = b.images[0];
    var cfg = img ? img.config : undefined;
    if (cfg && firstConfig[b.build] === undefined) firstConfig[b.build] = cfg;
    var differs = cfg && firstConfig[b.build] !== cfg;
    return [String(b.sequence), b.build, b.iteration === undefined ? "–" : String(b.iteration),
      String(b.exitCode) + (b.error ? ": " + b.error : ""),
      el("div", null, b.steps.map(function(s){ return el("div", {"class": s.cached ? "hit" : "miss"}, (s.cached ? "✔ cached " : "✘ ran ") + s.step + (s.durationMs !== undefined ? " (" + s.durationMs + " ms)" : "") + (s.error ? ": " + s.error : "")); })),
      el("code", {"class": differs ? "changed" : undefined, title: cfg || ""}, short(cfg) + (differs ? " (differs from the first " + b.build + ")" : "")),
      el("code", {title: img ? img.manifest : ""}, short(img && img.manifest)),
      el("code", {title: img && img.index || ""}, short(img && img.index)),
      el("code", null, img ? img.layers.map(short).join(" ") : "–")];
  }));
}
function render(d){
  var lab = LABELS[d.verdict.kind] || {label: d.verdict.kind, mark: "?"};
  var out = [el("h2", null, d.scenario + " on " + d.version + ": ", el("span", {"class": "chip v-" + d.verdict.kind}, lab.mark + " " + lab.label))];
  if (d.title) out.push(el("p", null, el("strong", null, d.title)));
  out.push(el("p", null, d.verdict.reason));
  if (d.verdict.fault) out.push(el("p", null, el("strong", null, d.verdict.fault.code + ": "), d.verdict.fault.message), d.verdict.fault.detail ? el("pre", null, d.verdict.fault.detail) : null);
  if (d.verdict.bugs && d.verdict.bugs.length) out.push(el("p", null, "Known bugs declared for this version: ", d.verdict.bugs.map(function(b, i){ return el("span", null, i ? ", " : "", safeLink(b)); })));
  if (d.upstream.length) out.push(el("p", null, "Upstream: ", d.upstream.map(function(u, i){ return el("span", null, i ? ", " : "", safeLink(u)); })));
  if (d.expectation) out.push(el("p", null, "Users expect: " + d.expectation));
  if (!d.ran) out.push(el("p", null, "Nothing of this scenario ran on this version."));
  d.attempts.forEach(function(a){
    if (a.attempt !== undefined) out.push(el("h3", null, "Attempt " + a.attempt));
    if (a.stoppedEarly) out.push(el("p", {"class": "fails"}, "Stopped early: " + a.stoppedEarly));
    out.push(el("h3", null, "Assertions"), outcomes(a));
    if (a.builds.length) out.push(el("h3", null, "Builds"), builds(a));
    if (a.events.length) out.push(el("p", null, "Events: " + a.events.map(function(e){ return e.kind + (e.detail ? " (" + e.detail + ")" : "") + " after build " + e.afterSequence; }).join("; ")));
    a.daemons.forEach(function(dm){
      out.push(el("h3", null, "Daemon " + dm.container), el("p", null, el("a", {href: dm.log}, dm.log), dm.exit ? " · " + dm.exit : ""));
      if (dm.excerpt !== undefined) out.push(el("pre", {"class": "log"}, dm.excerpt));
    });
  });
  return out;
}
var detail = document.getElementById("detail");
var open = null;
function show(cell){
  var data = document.getElementById("d-" + cell.id);
  if (!data) return;
  if (open) open.classList.remove("open");
  open = cell; cell.classList.add("open");
  detail.replaceChildren.apply(detail, render(JSON.parse(data.textContent)));
  detail.hidden = false;
}
var cells = Array.prototype.slice.call(document.querySelectorAll("#matrix td.cell"));
cells.forEach(function(c){
  c.addEventListener("click", function(){ history.replaceState(null, "", "#" + c.id); show(c); });
  c.addEventListener("keydown", function(ev){ if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); c.click(); } });
});
function fromHash(){ var id = decodeURIComponent(location.hash.slice(1)); var c = id && document.getElementById(id); if (c && c.classList.contains("cell")) { show(c); c.scrollIntoView({block: "center"}); } }
window.addEventListener("hashchange", fromHash);
var tagSelect = document.getElementById("tag");
var verdictBoxes = Array.prototype.slice.call(document.querySelectorAll("input[name=verdict]"));
function applyFilters(){
  var tag = tagSelect.value;
  var wanted = {};
  verdictBoxes.forEach(function(b){ if (b.checked) wanted[b.value] = true; });
  Array.prototype.forEach.call(document.querySelectorAll("#matrix tbody tr"), function(row){
    var tagOk = !tag || row.getAttribute("data-tags").split(" ").indexOf(tag) >= 0;
    var any = false;
    Array.prototype.forEach.call(row.querySelectorAll("td.cell"), function(c){
      var ok = wanted[c.getAttribute("data-verdict")] === true;
      c.classList.toggle("dim", !ok);
      if (ok) any = true;
    });
    row.classList.toggle("hidden", !(tagOk && any));
  });
}
tagSelect.addEventListener("change", applyFilters);
verdictBoxes.forEach(function(b){ b.addEventListener("change", applyFilters); });
fromHash();
})();
`;
