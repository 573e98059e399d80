/**
 * results.json: what a run found, as readers (people, the nightly comparison, other
 * tools) rely on it. Defined here, once: the TypeScript types come from this schema, and
 * reports/results.schema.json is generated from it. The runner's own types are free to
 * change; this changes only with `schemaVersion`.
 */
import Type, { type Static, type TSchema } from "typebox";

/** Bump on any change a reader could notice; readers refuse other versions. */
export const RESULTS_SCHEMA_VERSION = 2;

const Str = (description?: string) => Type.String(description ? { description } : {});
const Int = (description?: string) => Type.Integer(description ? { description, minimum: 0 } : { minimum: 0 });
const Opt = <T extends TSchema>(t: T) => Type.Optional(t);
const Obj = <P extends Record<string, TSchema>>(properties: P, description?: string, options: Record<string, unknown> = {}) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}), ...options });
const Enum = <const V extends string[]>(values: V, description?: string) => Type.Enum(values, description ? { description } : {});
/** Free-form JSON (an image config, an inline cache), kept as it was read. */
const Json = Type.Unsafe<unknown>({ description: "JSON as read from the image" });

const VerdictKindSchema = Enum(
  ["pass", "known-bug-reproduced", "unexpected-pass", "fail", "inconclusive", "not-applicable", "infrastructure-error", "not-run"],
  "pass; known-bug-reproduced; unexpected-pass (loud); fail (loud); inconclusive (loud: the harness could not observe what an assertion needs); not-applicable; infrastructure-error (loud, about the machine, not BuildKit); not-run (loud).",
);

const FaultSchema = Obj(
  {
    code: Str("A stable code, e.g. DAEMON_LOST, REGISTRY_LOST, OUT_OF_SPACE, TIMEOUT, HARNESS_BUG."),
    message: Str(),
    detail: Opt(Str("A stack or log excerpt.")),
  },
  "What went wrong with the machine or the harness: never a finding about BuildKit.",
);

const VerdictSchema = Obj({
  kind: VerdictKindSchema,
  loud: Type.Boolean({ description: "Turns the run red." }),
  reason: Str("What was observed that makes the verdict what it is."),
  bugs: Opt(Type.Array(Str(), { description: "The known bugs declared for this version." })),
  fault: Opt(FaultSchema),
});

const OutcomeSchema = Obj({
  id: Str("The assertion's id; *every-build-succeeds is the implicit control."),
  kind: Str(),
  description: Str(),
  status: Enum(["holds", "fails", "inconclusive", "not-evaluated"]),
  role: Enum(["control", "explained"], "explained: a declared known bug names it on this version; control: it must hold."),
  expected: Str(),
  actual: Str(),
  firstViolation: Opt(Obj({ sequence: Int(), iteration: Opt(Int()) })),
  differing: Opt(Type.Array(Obj({ sequence: Int(), output: Int() }), { description: "The two images whose digests differ." })),
  explanation: Opt(Json),
});

const DescriptorSchema = Obj({ mediaType: Str(), digest: Str(), size: Int(), annotations: Opt(Type.Record(Type.String(), Type.String())) });

const ImageSchema = Obj({
  source: Enum(["registry", "oci-archive", "docker-archive"]),
  location: Str(),
  indexDigest: Opt(Str()),
  manifestDigest: Str(),
  manifestMediaType: Opt(Str()),
  configDigest: Str(),
  layers: Type.Array(DescriptorSchema, { description: "The manifest's layer descriptors, bottom first." }),
  diffIds: Type.Array(Str()),
  manifestAnnotations: Opt(Type.Record(Type.String(), Type.String())),
  config: Json,
  inlineCache: Opt(Json),
  inlineCacheError: Opt(Str()),
});

const StepSchema = Obj({
  step: Str(),
  cached: Type.Boolean(),
  vertices: Int(),
  cachedVertices: Int(),
  error: Opt(Str()),
  durationMs: Opt(Type.Number()),
  log: Opt(Str("The end of what the step printed.")),
});

const BuildSchema = Obj({
  build: Str(),
  iteration: Opt(Int()),
  sequence: Int(),
  command: Type.Array(Str()),
  exitCode: Type.Integer(),
  error: Opt(Str()),
  crash: Opt(Obj({ exitCode: Type.Integer(), oomKilled: Type.Boolean(), panic: Opt(Type.Array(Str())) })),
  wallMs: Type.Number(),
  metadata: Json,
  steps: Type.Array(StepSchema),
  warnings: Type.Array(Str()),
  outputs: Type.Array(Obj({ index: Int(), type: Str(), image: Opt(ImageSchema), files: Opt(Int("Entries in the file tree.")), unreadable: Opt(Str()) })),
});

const AttemptSchema = Obj({
  attempt: Opt(Int()),
  outcomes: Type.Array(OutcomeSchema),
  builds: Type.Array(BuildSchema),
  events: Type.Array(Obj({ kind: Str(), detail: Opt(Str()), afterSequence: Int(), iteration: Opt(Int()), wallMs: Type.Number() })),
  daemons: Type.Array(
    Obj({
      container: Str(),
      generation: Opt(Int("Which buildkitd process of the container, from 1: a fresh builder is the next process, with empty state.")),
      log: Str("Path of the daemon's log, relative to the report folder."),
      logTruncated: Type.Boolean(),
      exit: Opt(Obj({ exitCode: Type.Integer(), oomKilled: Type.Boolean(), panic: Opt(Type.Array(Str())) })),
    }),
  ),
  stoppedEarly: Opt(Str()),
  wallMs: Type.Number(),
  buildctlWallMs: Type.Number(),
});

export const ResultSchema = Obj({
  scenario: Str(),
  version: Str("The builder the result is about, as the run names it: a BuildKit version, or dockerd:<engine build id>."),
  buildkitVersion: Opt(Str("The BuildKit that built: the daemon's, or the one embedded in the engine.")),
  verdict: VerdictSchema,
  attempts: Type.Array(AttemptSchema),
  wallMs: Type.Number(),
});

const ImageSourceSchema = Obj({
  source: Enum(["official", "local-build"]),
  reference: Str(),
  imageId: Str(),
  description: Str("One line saying where it came from; a local build is never called the official image."),
  labels: Type.Record(Type.String(), Type.String()),
});

const VersionSchema = Obj({
  version: Str("What the run was asked for: a BuildKit version, or dockerd:<engine build id>."),
  builder: Opt(
    Obj({
      kind: Enum(["buildkitd", "dockerd"]),
      id: Str(),
      buildkitVersion: Str("The BuildKit that builds: the daemon's, or the one embedded in the engine (from its binary)."),
      engineVersion: Opt(Str("dockerd --version")),
      origin: Str("Where the daemon or engine came from."),
    }),
  ),
  judgedAs: Opt(Str("For a commit of master: the release its version ranges were judged by (the newest release before the commit).")),
  status: Enum(["ran", "provision-failed", "start-failed", "interrupted"]),
  fault: Opt(FaultSchema),
  buildkit: Opt(ImageSourceSchema),
  buildctl: Opt(Str("buildctl's version")),
  registry: Opt(ImageSourceSchema),
  privilege: Opt(Str()),
  platform: Opt(Str()),
  timings: Opt(Obj({ provisionMs: Type.Number(), startToReadyMs: Type.Number() })),
});

const ScenarioSchema = Obj({
  id: Str(),
  title: Str(),
  upstream: Type.Array(Str()),
  tags: Type.Array(Str()),
  expectation: Str(),
  applies: Str(),
  folder: Str("The scenario's folder, relative to the project when it is inside it."),
  knownBugs: Type.Array(
    Obj({
      versions: Str(),
      builder: Opt(Enum(["buildkitd", "dockerd"])),
      engine: Opt(Str()),
      status: Enum(["reproduces", "fixed"]),
      fixedIn: Opt(Str()),
      reference: Str(),
      explains: Type.Array(Obj({ assertion: Str(), actualContains: Opt(Str()) })),
      racy: Opt(Obj({ atLeast: Int(), of: Int() })),
      note: Opt(Str()),
    }),
  ),
});

export const ResultsSchema = Obj(
  {
    schemaVersion: Type.Literal(RESULTS_SCHEMA_VERSION),
    harness: Obj({ version: Str(), commit: Opt(Str()) }),
    run: Obj({
      id: Str(),
      startedAt: Str(),
      finishedAt: Str(),
      host: Str(),
      engine: Opt(Obj({ serverVersion: Str(), apiVersion: Str(), provenance: Str() })),
      complete: Type.Boolean({ description: "False when the run was interrupted: results that did not run are not-run." }),
    }),
    versions: Type.Array(VersionSchema),
    scenarios: Type.Array(ScenarioSchema),
    invalidScenarios: Type.Array(Obj({ folder: Str(), message: Str() }), { description: "Folders refused before anything ran; the others ran." }),
    results: Type.Array(ResultSchema),
    counts: Type.Record(Type.String(), Type.Integer()),
  },
  "What one run found: the versions it used and how each was obtained, every scenario it knew, and each scenario × version result with its evidence.",
  { $id: "https://github.com/buildkit-repro/results.schema.json", title: "buildkit-repro results" },
);

export type ResultsDocument = Static<typeof ResultsSchema>;
export type ResultRecord = Static<typeof ResultSchema>;
export type VersionRecord = Static<typeof VersionSchema>;
export type ScenarioRecord = Static<typeof ScenarioSchema>;
export type AttemptRecord = Static<typeof AttemptSchema>;
export type BuildRecord = Static<typeof BuildSchema>;
export type OutcomeRecord = Static<typeof OutcomeSchema>;
export type ImageRecord = Static<typeof ImageSchema>;
