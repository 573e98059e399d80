import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { buildctlBuildArgs } from "../../../harness/buildkit/build-request.ts";
import { HarnessError } from "../../../harness/errors.ts";
import { LIMITS } from "../../../harness/scenario/format/limits.ts";
import { loadCorpus, loadScenario, SCENARIO_FILE } from "../../../harness/scenario/load.ts";
import type { BuildStep, Scenario } from "../../../harness/scenario/model.ts";
import { planBuild } from "../../../harness/scenario/run/request.ts";

/**
 * Scenario folders as an attacker would write them. Each case is a valid scenario (base())
 * with one mutation, built in a temporary folder. A refused case must be refused by
 * loadScenario with SCENARIO_INVALID, naming the file and the field, within a second,
 * without echoing file contents, and without anything changing outside the test's
 * temporary folder (the canary folder, the folder hostile paths point at, and the
 * scenario folder itself are compared before and after). A case that is legitimately
 * runnable is in the second table, with the reason it is harmless and a check of it.
 */

/** In a memory file system when there is one: the too-many-files case creates thousands of files, seconds on a busy disk. */
function scratchRoot(): string {
  try {
    return mkdtempSync(join("/dev/shm", "hostile-scenarios-"));
  } catch {
    return mkdtempSync(join(tmpdir(), "hostile-scenarios-"));
  }
}
const root = scratchRoot();
/** Files outside every scenario folder that a case tries to read: their content must never show. */
const canary = join(root, "canary");
/** Where hostile paths point (outside every scenario folder): must stay empty. */
const elsewhere = join(root, "elsewhere");
const SECRET = `secret-${createHash("sha256").update(root).digest("hex").slice(0, 16)}`;
mkdirSync(canary);
mkdirSync(elsewhere);
writeFileSync(join(canary, "secret.txt"), `root:${SECRET}:19000:0:99999:7:::\n`);
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((done) => s.close(done));
  rmSync(root, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: cases mutate the document freely, as a contributor's YAML would
type Doc = Record<string, any>;

function base(): Doc {
  return {
    id: "hostile",
    title: "A valid scenario that one mutation makes hostile",
    upstream: ["https://github.com/moby/buildkit/issues/3009"],
    expectation: "The build succeeds.",
    steps: [
      {
        build: {
          name: "first",
          output: { type: "image", name: "{{registry}}/{{scenario}}:first", push: true },
        },
      },
    ],
    assertions: [{ id: "builds", "build-succeeds": { build: "first" } }],
  };
}

const DOCKERFILE = "FROM {{image:busybox}}\nCOPY . /app\n";

interface Folder {
  readonly dir: string;
}

interface Case {
  readonly name: string;
  /** Changes the document before it is written. */
  readonly doc?: (d: Doc) => void;
  /** The scenario.yaml text, instead of the document. */
  readonly yaml?: string;
  readonly dockerfile?: string;
  /** Changes the folder after it is written. */
  readonly files?: (f: Folder) => unknown;
  /** Whom the message is addressed to: the scenario.yaml (default) or the folder (its listing). */
  readonly names?: "yaml" | "folder";
  /** The field path a problem line starts with (`  - <field>: …` or `  - <field> (…): …`). */
  readonly field: string;
  /** What that problem says. */
  readonly says: RegExp;
  /** Appended to the name of the scenario folder. */
  readonly folderSuffix?: string;
  /** Why the case cannot be built here (e.g. device nodes need CAP_MKNOD); undefined when it can. */
  readonly unavailable?: () => string | undefined;
}

let serial = 0;

async function makeFolder(c: Pick<Case, "doc" | "yaml" | "dockerfile" | "files" | "folderSuffix">): Promise<string> {
  const dir = join(root, `case-${++serial}${c.folderSuffix ?? ""}`);
  mkdirSync(join(dir, "context"), { recursive: true });
  writeFileSync(join(dir, "context", "a.txt"), "a\n");
  const doc = base();
  c.doc?.(doc);
  writeFileSync(join(dir, SCENARIO_FILE), c.yaml ?? YAML.stringify(doc));
  writeFileSync(join(dir, "Dockerfile"), c.dockerfile ?? DOCKERFILE);
  await c.files?.({ dir });
  return dir;
}

/** What a folder holds, without following links: a changed file, mode, time or link shows. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of readdirSync(d).sort()) {
      const abs = join(d, name);
      const st = lstatSync(abs);
      const r = `${rel}${name}`;
      let what = `${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${st.nlink}`;
      if (st.isSymbolicLink()) what += ` -> ${readlinkSync(abs)}`;
      // Content is hashed for files small enough to read quickly; sparse giants by size and time.
      else if (st.isFile() && st.size > 0 && st.size <= 4 * 1024 * 1024) what += ` ${createHash("sha256").update(readFileSync(abs)).digest("hex")}`;
      out.push(`${r} ${what}`);
      if (st.isDirectory()) walk(abs, `${r}/`);
    }
  };
  walk(dir, "");
  return out;
}

function nestedRepeat(d: Doc): void {
  d.steps = [{ repeat: { times: 50, steps: [{ repeat: { times: 50, steps: [{ build: d.steps[0].build }] } }] } }];
}

function buildWith(d: Doc, fields: Doc): void {
  Object.assign(d.steps[0].build, fields);
}

function fifo(path: string): void {
  execFileSync("mkfifo", [path]);
}

function mknodUnavailable(): string | undefined {
  const probe = join(root, "mknod-probe");
  try {
    execFileSync("mknod", [probe, "c", "1", "3"], { stdio: "ignore" });
    rmSync(probe);
    return undefined;
  } catch {
    return "mknod is not permitted here (needs CAP_MKNOD)";
  }
}

const addEdit = (edit: Doc) => (d: Doc) => {
  d.steps.unshift(edit);
};

const REFUSED: Case[] = [
  // ---- path tricks ----
  {
    name: "Dockerfile path climbing out with ..",
    doc: (d) => buildWith(d, { dockerfile: "context/../../canary/secret.txt" }),
    field: "steps[0].build.dockerfile",
    says: /leads outside the scenario folder/,
  },
  {
    name: "copy from an absolute host path",
    doc: addEdit({ copy: { from: "/etc/shadow", to: "context/shadow" } }),
    field: "steps[0].copy.from",
    says: /relative to the scenario folder/,
  },
  {
    name: "copy to a path that normalises outside",
    doc: addEdit({ copy: { from: "context/a.txt", to: "context/../../elsewhere/a.txt" } }),
    field: "steps[0].copy.to",
    says: /leads outside the scenario folder/,
  },
  {
    name: "write to a path that normalises outside",
    doc: addEdit({ write: { path: "context/./../../elsewhere/x", content: "x" } }),
    field: "steps[0].write.path",
    says: /leads outside the scenario folder/,
  },
  {
    name: "delete the folder itself",
    doc: addEdit({ delete: { path: "context/.." } }),
    field: "steps[0].delete.path",
    says: /is the scenario folder itself/,
  },
  {
    name: "write step rewriting the Dockerfile to pull from Docker Hub",
    doc: addEdit({ write: { path: "Dockerfile", content: "FROM docker.io/library/alpine\n" } }),
    field: "steps[0].write.path",
    says: /is a build's Dockerfile \(Dockerfile\); edits may change build contexts only/,
  },
  {
    name: "copy step replacing the source policy after it was checked",
    doc: (d) => {
      buildWith(d, { sourcePolicy: "policy.json" });
      d.steps.unshift({ copy: { from: "context/a.txt", to: "policy.json" } });
    },
    files: ({ dir }) => writeFileSync(join(dir, "policy.json"), JSON.stringify({ rules: [] })),
    field: "steps[0].copy.to",
    says: /is a build's source policy \(policy\.json\)/,
  },
  {
    name: "source policy outside the folder",
    doc: (d) => buildWith(d, { sourcePolicy: "../canary/secret.txt" }),
    field: "steps[0].build.sourcePolicy",
    says: /leads outside the scenario folder/,
  },
  {
    name: "scenario image archive outside the folder",
    doc: (d) => {
      d.images = { quirky: "../canary/secret.txt" };
    },
    field: "images.quirky",
    says: /leads outside the scenario folder/,
  },
  {
    name: "NUL in a path",
    doc: addEdit({ write: { path: "context/a\u0000b", content: "x" } }),
    field: "steps[0].write.path",
    says: /U\+0000/,
  },
  {
    name: "newline in a path",
    doc: addEdit({ write: { path: "context/a\nb", content: "x" } }),
    field: "steps[0].write.path",
    says: /line break/,
  },
  {
    name: "very long path",
    doc: addEdit({ write: { path: `context/${"a/".repeat(2000)}x`, content: "x" } }),
    field: "steps[0].write.path",
    says: /too long: at most 255/,
  },
  {
    name: "absolute symlink pointing back at the scenario's own file",
    files: ({ dir }) => symlinkSync(join(dir, "context", "a.txt"), join(dir, "context", "alias")),
    names: "folder",
    field: "context/alias",
    says: /absolute target/,
  },
  {
    name: "relative symlink leading out of the folder",
    files: ({ dir }) => symlinkSync("../../canary/secret.txt", join(dir, "context", "out")),
    names: "folder",
    field: "context/out",
    says: /leads outside the scenario folder/,
  },
  {
    name: "symlink chain whose last hop leads out",
    files: ({ dir }) => {
      symlinkSync("hop", join(dir, "context", "start"));
      symlinkSync("../../canary", join(dir, "context", "hop"));
    },
    names: "folder",
    field: "context/hop",
    says: /leads outside the scenario folder/,
  },
  {
    name: "symlink climbing through a symlinked folder (lexically inside, really outside)",
    files: ({ dir }) => {
      symlinkSync("..", join(dir, "context", "up"));
      symlinkSync("up/../canary/secret.txt", join(dir, "context", "through"));
    },
    names: "folder",
    field: "context/through",
    says: /\.\. after a name/,
  },
  {
    name: "symlink loop",
    files: ({ dir }) => {
      symlinkSync("b", join(dir, "context", "a-link"));
      symlinkSync("a-link", join(dir, "context", "b"));
    },
    names: "folder",
    field: "context/a-link",
    says: /loop/,
  },
  {
    name: "scenario.yaml symlinked to /etc/shadow",
    files: ({ dir }) => {
      rmSync(join(dir, SCENARIO_FILE));
      symlinkSync("/etc/shadow", join(dir, SCENARIO_FILE));
    },
    names: "folder",
    field: "scenario.yaml",
    says: /absolute target/,
  },
  {
    name: "scenario.yaml symlinked (relative) to a secret outside",
    files: ({ dir }) => {
      rmSync(join(dir, SCENARIO_FILE));
      symlinkSync("../canary/secret.txt", join(dir, SCENARIO_FILE));
    },
    names: "folder",
    field: "scenario.yaml",
    says: /leads outside the scenario folder/,
  },
  {
    name: "scenario.yaml symlinked to a file inside the folder",
    files: ({ dir }) => {
      writeFileSync(join(dir, "real.yaml"), readFileSync(join(dir, SCENARIO_FILE)));
      rmSync(join(dir, SCENARIO_FILE));
      symlinkSync("real.yaml", join(dir, SCENARIO_FILE));
    },
    field: "(top level)",
    says: /is a symlink; it must be a regular file/,
  },
  {
    name: "Dockerfile that is a symlink to a file of the context",
    files: ({ dir }) => {
      rmSync(join(dir, "Dockerfile"));
      symlinkSync("context/a.txt", join(dir, "Dockerfile"));
    },
    field: "steps[0].build.dockerfile",
    says: /goes through the symlink Dockerfile/,
  },
  {
    name: "edit through a symlinked folder inside",
    doc: addEdit({ write: { path: "context/linked/x", content: "x" } }),
    files: ({ dir }) => {
      mkdirSync(join(dir, "context", "real"));
      symlinkSync("real", join(dir, "context", "linked"));
    },
    field: "steps[0].write.path",
    says: /goes through the symlink context\/linked/,
  },
  {
    name: "hard link to a file outside the folder",
    files: ({ dir }) => linkSync(join(canary, "secret.txt"), join(dir, "context", "shadow")),
    names: "folder",
    field: "context/shadow",
    says: /hard link/,
  },
  {
    name: "scenario folder that is itself a symlink",
    files: ({ dir }) => {
      const real = `${dir}-real`;
      execFileSync("mv", [dir, real]);
      symlinkSync(real, dir);
    },
    names: "folder",
    field: ".",
    says: /is a symlink/,
  },
  {
    name: "file name with a terminal escape sequence",
    files: ({ dir }) => writeFileSync(join(dir, "context", "\u001b[2J\u001b[Hok"), ""),
    names: "folder",
    field: "context/\\u{1b}[2J\\u{1b}[Hok",
    says: /the name contains the character U\+001B/,
  },
  {
    name: "folder name with a newline and a bidi override",
    files: ({ dir }) => mkdirSync(join(dir, "context", "a\nb\u202Ec")),
    names: "folder",
    field: "context/a\\u{a}b\\u{202e}c",
    says: /the name contains the character U\+000A/,
  },
  {
    name: "scenario folder whose name clears the screen",
    folderSuffix: "\u001b[2J",
    names: "folder",
    field: ".",
    says: /the folder's name contains the character U\+001B/,
  },
  // ---- special files ----
  {
    name: "FIFO named Dockerfile",
    files: ({ dir }) => {
      rmSync(join(dir, "Dockerfile"));
      fifo(join(dir, "Dockerfile"));
    },
    names: "folder",
    field: "Dockerfile",
    says: /is a FIFO/,
  },
  {
    name: "FIFO inside the build context",
    files: ({ dir }) => fifo(join(dir, "context", "pipe")),
    names: "folder",
    field: "context/pipe",
    says: /is a FIFO/,
  },
  {
    name: "FIFO named scenario.yaml",
    files: ({ dir }) => {
      rmSync(join(dir, SCENARIO_FILE));
      fifo(join(dir, SCENARIO_FILE));
    },
    names: "folder",
    field: "scenario.yaml",
    says: /is a FIFO/,
  },
  {
    name: "character device in the context",
    files: ({ dir }) => {
      execFileSync("mknod", [join(dir, "context", "null"), "c", "1", "3"]);
    },
    names: "folder",
    field: "context/null",
    says: /is a device/,
    unavailable: mknodUnavailable,
  },
  {
    name: "unix socket in the context",
    files: async ({ dir }) => {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((done) => server.listen(join(dir, "context", "sock"), done));
    },
    names: "folder",
    field: "context/sock",
    says: /is a socket/,
  },
  {
    name: "setuid file in the context",
    files: ({ dir }) => chmodSync(join(dir, "context", "a.txt"), 0o4755),
    names: "folder",
    field: "context/a.txt",
    says: /setuid or setgid/,
  },
  {
    name: "setgid file in the context",
    files: ({ dir }) => chmodSync(join(dir, "context", "a.txt"), 0o2755),
    names: "folder",
    field: "context/a.txt",
    says: /setuid or setgid/,
  },
  {
    name: "chmod step making a file setuid",
    doc: addEdit({ chmod: { path: "context/a.txt", mode: "4755" } }),
    field: "steps[0].chmod.mode",
    says: /setuid or setgid/,
  },
  {
    name: "600 MB Dockerfile (sparse)",
    files: ({ dir }) => truncateSync(join(dir, "Dockerfile"), 600 * 1024 * 1024),
    names: "folder",
    field: "Dockerfile",
    says: /is 629145600 bytes; a file may be at most/,
  },
  {
    name: "Dockerfile over the text limit but under the file limit",
    dockerfile: `${DOCKERFILE}#${"x".repeat(LIMITS.textFileBytes)}\n`,
    field: "steps[0].build.dockerfile",
    says: /the Dockerfile Dockerfile is \d+ bytes; at most 1048576/,
  },
  {
    name: "folder over the total size limit (sparse files)",
    files: ({ dir }) => {
      for (const n of ["x", "y", "z"]) {
        writeFileSync(join(dir, "context", n), "");
        truncateSync(join(dir, "context", n), 100 * 1024 * 1024);
      }
    },
    names: "folder",
    field: ".",
    says: /the folder holds \d+ bytes; at most/,
  },
  {
    name: "too many files",
    files: ({ dir }) => {
      // One touch for all of them: thousands of writeFileSync calls take seconds on a busy machine.
      execFileSync(
        "touch",
        Array.from({ length: LIMITS.folderEntries + 1 }, (_, i) => `f${i}`),
        { cwd: join(dir, "context") },
      );
    },
    names: "folder",
    field: ".",
    says: /more than 5000 entries/,
  },
  {
    name: "deep nesting",
    files: ({ dir }) => mkdirSync(join(dir, "context", ...Array.from({ length: 40 }, () => "d")), { recursive: true }),
    names: "folder",
    // The context is level 2, so the first folder too deep is the 31st d.
    field: `context/${Array.from({ length: 31 }, () => "d").join("/")}`,
    says: /nest deeper than 32/,
  },
  // ---- resource bombs ----
  {
    name: "repeat.times one million",
    doc: (d) => {
      d.steps = [{ repeat: { times: 1_000_000, steps: d.steps } }];
    },
    field: "steps[0].repeat.times",
    says: /<= 50/,
  },
  {
    name: "extendTo one billion",
    doc: (d) => {
      d.steps = [{ repeat: { times: 2, extendTo: 1_000_000_000, steps: d.steps } }];
    },
    field: "steps[0].repeat.extendTo",
    says: /<= 50/,
  },
  {
    name: "nested repeats",
    doc: nestedRepeat,
    field: "steps[0].repeat.steps[0].repeat",
    says: /unknown key "repeat"/,
  },
  {
    name: "too many builds in all (repeat × builds)",
    doc: (d) => {
      const builds = Array.from({ length: 7 }, (_, i) => ({
        build: { name: `b${i}`, output: { type: "image", name: `{{registry}}/{{scenario}}:b${i}-{{iteration}}`, push: true } },
      }));
      d.steps = [{ repeat: { times: 50, steps: builds } }];
      d.assertions = [{ id: "builds", "build-succeeds": { build: "b0" } }];
    },
    field: "steps",
    says: /can run up to 350 builds.*at most 300/,
  },
  {
    name: "racy attempts multiply the builds",
    doc: (d) => {
      d.steps = [{ repeat: { times: 40, steps: d.steps } }];
      d.knownBugs = [
        { versions: "*", status: "reproduces", reference: "https://github.com/moby/buildkit/issues/3009", explains: ["builds"], racy: { atLeast: 1, of: 10 } },
      ];
    },
    field: "steps",
    says: /can run up to 400 builds \(10 attempt/,
  },
  {
    name: "too many steps",
    doc: (d) => {
      d.steps = [...d.steps, ...Array.from({ length: LIMITS.stepsPerList }, () => ({ prune: null }))];
    },
    field: "steps",
    says: /at most 100 entries/,
  },
  {
    name: "wait of a day",
    doc: addEdit({ wait: { seconds: 86_400 } }),
    field: "steps[0].wait.seconds",
    says: /<= 10/,
  },
  {
    name: "edit content over the limit",
    doc: addEdit({ write: { path: "context/big", content: "x".repeat(LIMITS.editContentLength + 1) } }),
    field: "steps[0].write.content",
    says: /too long/,
  },
  {
    name: "huge scenario.yaml",
    yaml: `${YAML.stringify(base())}# ${"x".repeat(2 * 1024 * 1024)}\n`,
    field: "(top level)",
    says: /the scenario file scenario.yaml is \d+ bytes; at most 1048576/,
  },
  {
    name: "YAML alias bomb (billion laughs)",
    yaml: [
      "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
      ...Array.from({ length: 8 }, (_, i) => {
        const p = String.fromCharCode(97 + i);
        const n = String.fromCharCode(98 + i);
        return `${n}: &${n} [*${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}, *${p}]`;
      }),
      "",
    ].join("\n"),
    field: "(top level)",
    says: /not valid YAML: .*(alias|Excessive)/i,
  },
  {
    name: "YAML nesting deep enough to overflow the parser",
    yaml: `${YAML.stringify(base())}tags: ${"[".repeat(2_000)}${"]".repeat(2_000)}\n`,
    field: "(top level)",
    says: /nest deeper than 32 levels/,
  },
  {
    name: "YAML nesting that parses but would overflow the checks after it",
    yaml: `${YAML.stringify(base())}tags: ${"[".repeat(200)}${"]".repeat(200)}\n`,
    field: `tags${"[0]".repeat(31)}`,
    says: /nest deeper than 32 levels/,
  },
  {
    name: "YAML alias cycle",
    yaml: `${YAML.stringify(base())}tags: &t [*t]\n`,
    field: `tags${"[0]".repeat(31)}`,
    says: /nest deeper than 32 levels/,
  },
  // ---- outputs and caches that would write to the host ----
  {
    name: "local output with dest",
    doc: (d) => buildWith(d, { output: { type: "local", dest: join(elsewhere, "rootfs") } }),
    field: "steps[0].build.output.dest",
    says: /the harness chooses where outputs and local caches live/,
  },
  {
    name: "tar output with dest",
    doc: (d) => buildWith(d, { output: { type: "tar", dest: join(elsewhere, "out.tar") } }),
    field: "steps[0].build.output.dest",
    says: /remove dest/,
  },
  {
    name: "oci output with dest, second of two outputs",
    doc: (d) =>
      buildWith(d, {
        output: undefined,
        outputs: [d.steps[0].build.output, { type: "oci", dest: join(elsewhere, "oci.tar") }],
      }),
    field: "steps[0].build.outputs[1].dest",
    says: /remove dest/,
  },
  {
    name: "local cache export with dest",
    doc: (d) => buildWith(d, { exportCache: [{ type: "local", name: "c", dest: elsewhere }] }),
    field: "steps[0].build.exportCache[0].dest",
    says: /remove dest/,
  },
  {
    name: "local cache import with src /etc",
    doc: (d) => buildWith(d, { importCache: [{ type: "local", src: "/etc" }] }),
    field: "steps[0].build.importCache[0]",
    says: /names a cache an earlier build exported/,
  },
  {
    name: "src attribute on a named local cache import",
    doc: (d) => {
      d.steps.unshift({ build: { name: "zero", exportCache: [{ type: "local", name: "c" }], output: { type: "image", name: "{{registry}}/x:0" } } });
      d.steps[1].build.importCache = [{ type: "local", name: "c", src: elsewhere }];
    },
    field: "steps[1].build.importCache[0].src",
    says: /remove src/,
  },
  {
    name: "dest attribute on an image output",
    doc: (d) => {
      d.steps[0].build.output.dest = elsewhere;
    },
    field: "steps[0].build.output.dest",
    says: /remove dest/,
  },
  // ---- network ----
  {
    name: "FROM Docker Hub",
    dockerfile: "FROM docker.io/library/busybox\n",
    field: "steps[0].build.dockerfile (Dockerfile, line 1)",
    says: /neither a stage nor an image of the test registry/,
  },
  {
    name: "FROM the host's Docker bridge",
    dockerfile: "FROM 172.17.0.1:5000/base/busybox\n",
    field: "steps[0].build.dockerfile (Dockerfile, line 1)",
    says: /172\.17\.0\.1:5000/,
  },
  {
    name: "FROM localhost:5000 behind a line continuation",
    dockerfile: "FROM \\\n  localhost:5000/x AS base\nCOPY . /\n",
    field: "steps[0].build.dockerfile (Dockerfile, line 1)",
    says: /localhost:5000/,
  },
  {
    name: "COPY --from an IP address",
    dockerfile: `${DOCKERFILE}COPY --from=10.0.0.1/x:1 / /\n`,
    field: "steps[0].build.dockerfile (Dockerfile, line 3)",
    says: /COPY --from names "10\.0\.0\.1\/x:1"/,
  },
  {
    name: "RUN --mount from an image on Docker Hub",
    dockerfile: `${DOCKERFILE}RUN --mount=type=bind,from=alpine,target=/a true\n`,
    field: "steps[0].build.dockerfile (Dockerfile, line 3)",
    says: /RUN --mount from= names "alpine"/,
  },
  {
    name: "RUN --mount with a CSV-quoted from= field",
    dockerfile: `${DOCKERFILE}RUN --mount=type=bind,"from=alpine",target=/a true\n`,
    field: "steps[0].build.dockerfile (Dockerfile, line 3)",
    says: /RUN --mount has a quoted value/,
  },
  {
    name: "RUN --mount quoted with a space before from=",
    dockerfile: `${DOCKERFILE}RUN --mount="type=bind, from=alpine,target=/a" true\n`,
    field: "steps[0].build.dockerfile (Dockerfile, line 3)",
    says: /RUN --mount has a quoted value/,
  },
  {
    name: "ONBUILD COPY --from elsewhere",
    dockerfile: `${DOCKERFILE}ONBUILD COPY --from=docker.io/x / /\n`,
    field: "steps[0].build.dockerfile (Dockerfile, line 3)",
    says: /docker\.io\/x/,
  },
  {
    name: "FROM through a build argument",
    dockerfile: "ARG BASE=docker.io/library/busybox\nFROM $BASE\n",
    field: "steps[0].build.dockerfile (Dockerfile, line 2)",
    says: /uses a variable/,
  },
  {
    name: "ADD of an http URL",
    dockerfile: `${DOCKERFILE}ADD http://172.17.0.1:8080/payload /p\n`,
    field: "steps[0].build.dockerfile (Dockerfile, line 3)",
    says: /fetches from the network/,
  },
  {
    name: "ADD of a git repository",
    dockerfile: `${DOCKERFILE}ADD ["git@github.com:moby/buildkit.git", "/src"]\n`,
    field: "steps[0].build.dockerfile (Dockerfile, line 3)",
    says: /fetches from the network/,
  },
  {
    name: "RUN --network=host",
    dockerfile: `${DOCKERFILE}RUN --network=host wget http://172.17.0.1/\n`,
    field: "steps[0].build.dockerfile (Dockerfile, line 3)",
    says: /entitlement/,
  },
  {
    name: "# syntax= frontend image",
    dockerfile: `# syntax=docker/dockerfile:1\n${DOCKERFILE}`,
    field: "steps[0].build.dockerfile (Dockerfile, line 1)",
    says: /pull a frontend image/,
  },
  {
    name: "# syntax= behind a byte order mark",
    dockerfile: `\uFEFF# syntax=docker/dockerfile:1\n${DOCKERFILE}`,
    field: "steps[0].build.dockerfile (Dockerfile, line 1)",
    says: /pull a frontend image/,
  },
  {
    name: "# syntax= after a #! line",
    dockerfile: `#!/usr/bin/env buildctl\n# syntax=docker/dockerfile:1\n${DOCKERFILE}`,
    field: "steps[0].build.dockerfile (Dockerfile, line 2)",
    says: /pull a frontend image/,
  },
  {
    name: "// syntax= (C-style directive)",
    dockerfile: `// syntax=docker.io/someone/frontend\n${DOCKERFILE}`,
    field: "steps[0].build.dockerfile (Dockerfile, line 1)",
    says: /pull a frontend image/,
  },
  {
    name: "# syntax= after another directive",
    dockerfile: `# check=skip=all\n# Syntax = docker/dockerfile:1\n${DOCKERFILE}`,
    field: "steps[0].build.dockerfile (Dockerfile, line 2)",
    says: /pull a frontend image/,
  },
  {
    name: "Dockerfile that is JSON with a syntax key",
    dockerfile: '{ "syntax": "docker.io/someone/frontend" }\n',
    field: "steps[0].build.dockerfile (Dockerfile, line 1)",
    says: /pull a frontend image/,
  },
  {
    name: "BUILDKIT_SYNTAX build argument",
    doc: (d) => buildWith(d, { buildArgs: { BUILDKIT_SYNTAX: "docker/dockerfile:1" } }),
    field: "steps[0].build.buildArgs.BUILDKIT_SYNTAX",
    says: /frontend image/,
  },
  {
    name: "named context from Docker Hub (context:*)",
    doc: (d) => buildWith(d, { frontendOpts: { "context:base": "docker-image://docker.io/library/alpine" } }),
    field: "steps[0].build.frontendOpts.context:base",
    says: /not an option a scenario may set/,
  },
  {
    name: "a scenario's own force-network-mode",
    doc: (d) => buildWith(d, { frontendOpts: { "force-network-mode": "host" } }),
    field: "steps[0].build.frontendOpts.force-network-mode",
    says: /not an option a scenario may set/,
  },
  {
    name: "git context",
    doc: (d) => buildWith(d, { context: "https://github.com/moby/buildkit.git" }),
    field: "steps[0].build.context",
    says: /does not exist in the scenario folder/,
  },
  {
    name: "import-cache ref on the host's bridge",
    doc: (d) => buildWith(d, { importCache: [{ type: "registry", ref: "172.17.0.1:5000/cache" }] }),
    field: "steps[0].build.importCache[0].ref",
    says: /must start with \{\{registry\}\}\//,
  },
  {
    name: "export-cache ref smuggling a second ref after a comma",
    doc: (d) => buildWith(d, { exportCache: [{ type: "registry", ref: "{{registry}}/c:1,ref=docker.io/x/c:1" }] }),
    field: "steps[0].build.exportCache[0].ref",
    says: /not a valid image reference/,
  },
  {
    name: "push to Docker Hub",
    doc: (d) => {
      d.steps[0].build.output.name = "docker.io/someone/leak:latest";
    },
    field: "steps[0].build.output.name",
    says: /must start with \{\{registry\}\}\//,
  },
  {
    name: "pull from Docker Hub into a dockerd engine",
    doc: addEdit({ pull: { ref: "docker.io/library/alpine:latest" } }),
    field: "steps[0].pull.ref",
    says: /must start with \{\{registry\}\}\//,
  },
  {
    name: "remove-image ref that looks like a flag",
    doc: addEdit({ "remove-image": { ref: "--force" } }),
    field: "steps[0].remove-image.ref",
    says: /must start with \{\{registry\}\}\//,
  },
  {
    name: "second image name after a comma (push elsewhere)",
    doc: (d) => {
      d.steps[0].build.output.name = "{{registry}}/x:1,localhost:5000/x:1";
    },
    field: "steps[0].build.output.name",
    says: /not a valid image reference/,
  },
  {
    name: "source policy converting to Docker Hub",
    doc: (d) => buildWith(d, { sourcePolicy: "policy.json" }),
    files: ({ dir }) =>
      writeFileSync(
        join(dir, "policy.json"),
        JSON.stringify({
          rules: [{ action: "CONVERT", selector: { identifier: "docker-image://x" }, updates: { identifier: "docker-image://docker.io/library/alpine" } }],
        }),
      ),
    field: "steps[0].build.sourcePolicy (policy.json, rules[0].updates.identifier)",
    says: /builds may reach only the test registry/,
  },
  {
    name: "{{image:…}} naming a path",
    dockerfile: "FROM {{image:../../etc}}\n",
    field: "steps[0].build.dockerfile (Dockerfile)",
    says: /\{\{image:\.\.\/\.\.\/etc\}\} is not a reference/,
  },
  // ---- injection ----
  {
    name: "build-arg key with =",
    doc: (d) => buildWith(d, { buildArgs: { "A=B": "x" } }),
    field: "steps[0].build.buildArgs.A=B",
    says: /the key is not a build argument name/,
  },
  {
    name: "build-arg key with a leading -",
    doc: (d) => buildWith(d, { buildArgs: { "-output": "x" } }),
    field: "steps[0].build.buildArgs.-output",
    says: /the key is not a build argument name/,
  },
  {
    name: "cache ref starting with -",
    doc: (d) => buildWith(d, { importCache: [{ type: "registry", ref: "--output=type=local,dest=/" }] }),
    field: "steps[0].build.importCache[0].ref",
    says: /must start with \{\{registry\}\}\//,
  },
  {
    name: "newline in a build-arg value",
    doc: (d) => buildWith(d, { buildArgs: { A: "x\n--output=type=local,dest=/" } }),
    field: "steps[0].build.buildArgs.A",
    says: /line break/,
  },
  {
    name: "newline in an output attribute",
    doc: (d) => {
      d.steps[0].build.output["annotation.x"] = "a\nb";
    },
    field: "steps[0].build.output.annotation.x",
    says: /line break/,
  },
  {
    name: "attribute key with a leading - or =",
    doc: (d) => {
      d.steps[0].build.output["-dest"] = "/";
    },
    field: "steps[0].build.output.-dest",
    says: /the key is not an attribute name/,
  },
  {
    name: "terminal escape sequence in the title",
    doc: (d) => {
      d.title = "Looks fine\u001b[2J\u001b[H";
    },
    field: "title",
    says: /U\+001B/,
  },
  {
    name: "bidi override in the expectation",
    doc: (d) => {
      d.expectation = "The digest is \u202Eelbats\u202C.";
    },
    field: "expectation",
    says: /U\+202E/,
  },
  {
    name: "C1 control in a known bug's note",
    doc: (d) => {
      d.knownBugs = [
        { versions: "*", status: "reproduces", reference: "https://github.com/moby/buildkit/issues/3009", explains: ["builds"], note: "x\u009by" },
      ];
    },
    field: "knownBugs[0].note",
    says: /U\+009B/,
  },
  {
    name: "bidi isolate in a tag",
    doc: (d) => {
      d.tags = ["cache\u2066"];
    },
    field: "tags[0]",
    says: /U\+2066/,
  },
  {
    name: "escape character in a mapping key",
    doc: (d) => {
      d.steps[0].build.buildArgs = { "A\u001b": "x" };
    },
    field: "steps[0].build.buildArgs",
    says: /a key contains the character U\+001B/,
  },
  {
    name: "reference that is not an https URL (report links)",
    doc: (d) => {
      d.knownBugs = [{ versions: "*", status: "reproduces", reference: "javascript:alert(1)", explains: ["builds"] }];
    },
    field: "knownBugs[0].reference",
    says: /an https URL/,
  },
  {
    name: "__proto__ as a top-level key",
    yaml: `${YAML.stringify(base())}__proto__: { polluted: true }\n`,
    field: "__proto__",
    says: /reserved name/,
  },
  {
    name: "__proto__ as a build-arg name",
    doc: (d) => {
      d.steps[0].build.buildArgs = JSON.parse('{"__proto__": "x"}');
    },
    field: "steps[0].build.buildArgs.__proto__",
    says: /reserved name/,
  },
];

async function refusal(dir: string): Promise<{ error: HarnessError; ms: number }> {
  const started = performance.now();
  try {
    loadScenario(dir);
  } catch (err) {
    const ms = performance.now() - started;
    if (err instanceof HarnessError) return { error: err, ms };
    throw err;
  }
  throw new Error(`${dir}: the loader accepted it`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

describe("hostile scenario folders are refused", () => {
  it("has at least 45 cases, each with a distinct name", () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(45);
    expect(new Set(REFUSED.map((c) => c.name)).size).toBe(REFUSED.length);
  });

  it.for(REFUSED)("$name", async (c, ctx) => {
    const why = c.unavailable?.();
    if (why) ctx.skip(why);
    const dir = await makeFolder(c);
    const outside = [snapshot(canary), snapshot(elsewhere)];
    const folder = snapshot(dir);

    const { error, ms } = await refusal(dir);

    expect(error.code).toBe("SCENARIO_INVALID");
    const [first, ...problems] = error.message.split("\n");
    // Printed paths show control characters as \u{…}, never raw.
    const shown = (path: string) => path.replaceAll("\u001b", "\\u{1b}");
    expect(first).toBe(`${shown(c.names === "folder" ? dir : join(dir, SCENARIO_FILE))}:`);
    const line = problems.find((p) => new RegExp(`^  - ${escapeRegExp(c.field)}(:| \\()`).test(p));
    expect(line, `no problem names ${c.field} in:\n${error.message}`).toBeDefined();
    expect(line).toMatch(c.says);
    expect(error.message).not.toContain(SECRET);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the message must carry none
    expect(error.message).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(ms).toBeLessThan(1000);
    expect([snapshot(canary), snapshot(elsewhere)]).toEqual(outside);
    expect(snapshot(dir)).toEqual(folder);
  });

  it("refuses two folders with the same id in a corpus, and still loads the others", async () => {
    const corpus = join(root, "corpus");
    mkdirSync(corpus);
    for (const [name, id] of [
      ["one", "same"],
      ["two", "same"],
      ["three", "other"],
    ] as const) {
      const dir = await makeFolder({
        doc: (d) => {
          d.id = id;
        },
      });
      execFileSync("mv", [dir, join(corpus, name)]);
    }
    const { scenarios, invalid } = loadCorpus(corpus);
    expect(scenarios.map((s) => s.id)).toEqual(["other"]);
    expect(invalid.map((i) => i.dir)).toEqual([join(corpus, "one"), join(corpus, "two")]);
    for (const i of invalid) {
      expect(i.error.code).toBe("SCENARIO_INVALID");
      expect(i.error.message).toMatch(new RegExp(`^${escapeRegExp(join(i.dir, SCENARIO_FILE))}:\n  - id: "same" is also the id of `));
    }
  });
});

/** Splits a buildctl CSV value (`type=x,"k=v,w",…`) as Go's encoding/csv does. */
function csvFields(value: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= value.length) {
    let field = "";
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (value[i] === '"' && value[i + 1] === '"') {
          field += '"';
          i += 2;
        } else if (value[i] === '"') {
          i++;
          break;
        } else if (i >= value.length) throw new Error(`unterminated quote in ${value}`);
        else field += value[i++];
      }
    } else {
      while (i < value.length && value[i] !== ",") field += value[i++];
    }
    fields.push(field);
    i++; // the comma
  }
  return fields;
}

/** buildctl's view of one flag's values: every occurrence, split into key → values. */
function flagValues(argv: readonly string[], flag: string): Map<string, string[]>[] {
  return argv
    .flatMap((a, i) => (argv[i - 1] === flag ? [a] : []))
    .map((v) => {
      const m = new Map<string, string[]>();
      for (const f of csvFields(v)) {
        const eq = f.indexOf("=");
        const k = f.slice(0, eq);
        m.set(k, [...(m.get(k) ?? []), f.slice(eq + 1)]);
      }
      return m;
    });
}

async function argvOf(s: Scenario, work: string): Promise<string[]> {
  const step = s.steps.find((x): x is BuildStep => x.kind === "build")!;
  const ctx = { registry: "registry:5000", images: new Map([["busybox", `registry:5000/base/busybox@sha256:${"0".repeat(64)}`]]), scenario: s.id };
  const { request } = await planBuild(step, 1, ctx, { folder: s.dir, work });
  return buildctlBuildArgs(request);
}

interface Harmless {
  readonly name: string;
  /** Why running it cannot reach outside the harness's temporary area. */
  readonly because: string;
  readonly doc?: (d: Doc) => void;
  readonly dockerfile?: string;
  readonly files?: (f: Folder) => unknown;
  /** A check of the reason, on the loaded scenario and the buildctl argv it gives. */
  readonly proof: (s: Scenario, argv: readonly string[], work: string) => void;
}

const ACCEPTED: Harmless[] = [
  {
    name: "build-arg value that looks like a flag",
    because: "arguments reach buildctl as argv, never a shell: the value stays inside its own --opt element",
    doc: (d) => buildWith(d, { buildArgs: { A: "--output=type=local,dest=/" } }),
    proof: (_s, argv) => {
      const i = argv.indexOf("build-arg:A=--output=type=local,dest=/");
      expect(argv[i - 1]).toBe("--opt");
      expect(argv.filter((a) => a === "--output")).toHaveLength(1);
    },
  },
  {
    name: "frontend option value that looks like a flag",
    because: "the same: --opt target=<value> is one argv element, and the frontend only reads it as a stage name",
    doc: (d) => buildWith(d, { frontendOpts: { target: "--export-cache=type=local,dest=/" } }),
    proof: (_s, argv) => {
      expect(argv[argv.indexOf("target=--export-cache=type=local,dest=/") - 1]).toBe("--opt");
      expect(argv).not.toContain("--export-cache");
    },
  },
  {
    name: "attribute value smuggling dest= after a comma",
    because: "attribute values are CSV-quoted, so buildctl reads the comma as part of the value, and the only dest is the harness's",
    doc: (d) => buildWith(d, { output: { type: "local", "platform-split": `false,dest=${elsewhere}` } }),
    proof: (_s, argv, work) => {
      const [output] = flagValues(argv, "--output");
      expect(output!.get("platform-split")).toEqual([`false,dest=${elsewhere}`]);
      expect(output!.get("dest")).toHaveLength(1);
      expect(output!.get("dest")![0]!.startsWith(`${work}/`)).toBe(true);
    },
  },
  {
    name: "local cache export by name",
    because: "the harness chooses the folder, inside the attempt's work folder",
    doc: (d) => buildWith(d, { exportCache: [{ type: "local", name: "c", mode: "max" }] }),
    proof: (_s, argv, work) => {
      const [cache] = flagValues(argv, "--export-cache");
      expect(cache!.get("dest")).toEqual([join(work, "caches", "c")]);
    },
  },
  {
    name: "oci and tar outputs without dest",
    because: "each writes into the attempt's work folder, at a path the harness chooses",
    doc: (d) => buildWith(d, { output: undefined, outputs: [{ type: "oci", name: "{{registry}}/{{scenario}}:oci" }, { type: "tar" }] }),
    proof: (_s, argv, work) => {
      const dests = flagValues(argv, "--output").map((o) => o.get("dest"));
      expect(dests).toEqual([[join(work, "outputs", "1-0.tar")], [join(work, "outputs", "1-1.tar")]]);
    },
  },
  {
    name: "relative symlink inside the context",
    because: "BuildKit sends a symlink as a symlink and it resolves inside the folder; edits refuse to go through it",
    files: ({ dir }) => symlinkSync("a.txt", join(dir, "context", "alias")),
    proof: (s) => {
      expect(readlinkSync(join(s.dir, "context", "alias"))).toBe("a.txt");
    },
  },
  {
    name: "dangling relative symlink inside the context",
    because: "it points at nothing, inside the folder; nothing follows it outside",
    files: ({ dir }) => symlinkSync("missing.txt", join(dir, "context", "dangling")),
    proof: (s) => {
      expect(lstatSync(join(s.dir, "context", "dangling")).isSymbolicLink()).toBe(true);
    },
  },
  {
    name: "setgid folder",
    because: "folders inherit setgid from a shared parent; on a folder it grants nothing, it only sets the group of new files",
    files: ({ dir }) => chmodSync(join(dir, "context"), 0o2755),
    proof: (s) => {
      expect(lstatSync(join(s.dir, "context")).mode & 0o2000).toBe(0o2000);
    },
  },
  {
    name: "constructor as a build-arg name",
    because: "it is an ordinary own key of the mapping; nothing reads it as the object's constructor",
    doc: (d) => buildWith(d, { buildArgs: { constructor: "x" } }),
    proof: (s, argv) => {
      expect(Object.hasOwn((s.steps[0] as BuildStep).buildArgs, "constructor")).toBe(true);
      expect(argv).toContain("build-arg:constructor=x");
      expect(({} as Record<string, unknown>).constructor).toBe(Object);
    },
  },
  {
    name: "RUN --network=none and default",
    because: "the harness forces network mode none for every build",
    dockerfile: `${DOCKERFILE}RUN --network=none true\nRUN --network=default true\n`,
    proof: (_s, argv) => {
      expect(argv[argv.indexOf("force-network-mode=none") - 1]).toBe("--opt");
    },
  },
  {
    name: "non-ASCII text in the title",
    because: "letters and symbols are text; only control and bidirectional characters change what a terminal or report shows",
    doc: (d) => {
      d.title = "Größe ≠ taille — 缓存 🐳";
    },
    proof: (s) => {
      expect(s.title).toBe("Größe ≠ taille — 缓存 🐳");
    },
  },
];

describe("hostile-looking scenarios that are accepted, and why they are harmless", () => {
  it.for(ACCEPTED)("$name", async (c) => {
    expect(c.because.length).toBeGreaterThan(0);
    const dir = await makeFolder(c);
    const outside = [snapshot(canary), snapshot(elsewhere)];
    const folder = snapshot(dir);
    const scenario = loadScenario(dir);
    const work = mkdtempSync(join(root, "work-"));
    const argv = await argvOf(scenario, work);
    c.proof(scenario, argv, work);
    // Every host path buildctl is given is the harness's: the working copy or its work folder.
    for (const flag of ["--output", "--export-cache", "--import-cache"]) {
      for (const values of flagValues(argv, flag)) {
        for (const key of ["dest", "src"]) for (const p of values.get(key) ?? []) expect(p.startsWith(`${work}/`)).toBe(true);
      }
    }
    expect([snapshot(canary), snapshot(elsewhere)]).toEqual(outside);
    expect(snapshot(dir)).toEqual(folder);
  });
});
