/**
 * The structure of scenario.yaml: the one place it is defined. The loader validates
 * documents against it (ajv), the TypeScript types of a parsed document come from it, and
 * scenarios/scenario.schema.json (for editors) is generated from it. What a schema cannot
 * say (references between fields, paths on disk, semver ranges, image references) is
 * checked in code by the loader, after this.
 */
import Type, { type Static, type TSchema } from "typebox";
import { LIMITS } from "./limits.ts";

/** What a contributor sees when a value does not match `pattern`; carried into the generated schema too. */
const expected = <T extends TSchema>(schema: T, text: string): T => ({ ...schema, "x-expected": text });

const Name = expected(
  Type.String({ pattern: "^[a-z0-9][a-z0-9-]{0,62}$" }),
  "lowercase letters, digits and dashes, starting with a letter or digit (at most 63)",
);
const Text = (description: string, maxLength: number) => Type.String({ minLength: 1, maxLength, description });
const ScenarioPath = (description: string) =>
  expected(Type.String({ minLength: 1, maxLength: 255, pattern: "^[^/]", description }), "a path relative to the scenario folder (no leading /)");
const Range = (description: string) => expected(Type.String({ minLength: 1, maxLength: 200, description }), 'a semver range, e.g. ">=0.10.0 <0.13.0"');
const Scalar = Type.Unsafe<string | number | boolean>({ type: ["string", "number", "boolean"], maxLength: LIMITS.attributeValueLength });
/** A mapping whose keys match `key`; TypeBox's Record would let other keys through unchecked. */
const MapOf = <V extends TSchema>(key: TSchema, value: V, options: { description?: string } = {}) =>
  Type.Unsafe<Record<string, Static<V>>>({ type: "object", propertyNames: key, additionalProperties: value, ...options });
/** Attribute maps: buildctl passes unknown keys through to the daemon (that is how a typo like `mod=max` behaves), so keys are open. */
const Attributes = {
  additionalProperties: Scalar,
  propertyNames: expected(Type.String({ pattern: "^[a-z][a-z0-9.:_-]{0,63}$" }), "an attribute name such as mode or image-manifest"),
};

const BuildRef = Type.String({ minLength: 1, maxLength: 63, description: "The name of a build step." });
const Versions = Range("Evaluate this assertion only on BuildKit versions in this range; elsewhere it is not evaluated.");

const CacheImport = Type.Object(
  {
    type: Type.Enum(["registry", "local"], {
      description: "registry: an image in the test registry ({{registry}}/…); local: a cache a build of this scenario exported with type local.",
    }),
    ref: Type.Optional(Type.String({ maxLength: 300, description: "registry: the cache or image reference, under {{registry}}/." })),
    name: Type.Optional(expected(Type.String({ pattern: "^[a-z0-9][a-z0-9-]{0,62}$" }), "a cache name (lowercase, digits, dashes)")),
  },
  { ...Attributes, description: "An --import-cache. Further attributes are passed to buildctl as written." },
);

const CacheExport = Type.Object(
  {
    type: Type.Enum(["inline", "registry", "local"], {
      description: "inline: in the image config; registry: to {{registry}}/…; local: to a directory the harness chooses, named by `name`.",
    }),
    ref: Type.Optional(Type.String({ maxLength: 300, description: "registry: where the cache goes, under {{registry}}/." })),
    name: Type.Optional(expected(Type.String({ pattern: "^[a-z0-9][a-z0-9-]{0,62}$" }), "a cache name (lowercase, digits, dashes)")),
    mode: Type.Optional(Type.String({ description: "min (default) or max. Other values are passed through as written." })),
  },
  { ...Attributes, description: "An --export-cache. Further attributes (image-manifest, oci-mediatypes, compression, …) are passed to buildctl as written." },
);

const Output = Type.Object(
  {
    type: Type.Enum(["image", "registry", "oci", "docker", "local", "tar"], {
      description:
        "image/registry: pushed to the test registry; oci/docker: an image archive; local/tar: the build's file tree. The harness chooses where archives and trees are written.",
    }),
    name: Type.Optional(
      Type.String({ maxLength: 300, description: 'image/registry/docker: the image name, under {{registry}}/ (e.g. "{{registry}}/{{scenario}}:latest").' }),
    ),
    push: Type.Optional(Type.Boolean({ description: "image: push to the test registry (registry: always)." })),
  },
  {
    ...Attributes,
    description:
      "An --output (exporter). Further attributes (rewrite-timestamp, oci-mediatypes, compression, annotation.*, …) are passed to buildctl as written.",
  },
);

const Build = Type.Object(
  {
    name: { ...Name, description: "Assertions refer to the build by this name; inside repeat, every iteration is a run of it." },
    context: Type.Optional(ScenarioPath("The build context folder (default: context).")),
    dockerfile: Type.Optional(ScenarioPath("The Dockerfile (default: Dockerfile); {{…}} references in it are resolved before the build.")),
    buildArgs: Type.Optional(
      MapOf(expected(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]{0,127}$" }), "a build argument name (letters, digits, _)"), Scalar, {
        description: "--opt build-arg:NAME=value for each entry.",
      }),
    ),
    frontendOpts: Type.Optional(
      MapOf(Type.String({ maxLength: 64 }), Scalar, { description: "Further --opt key=value (target, platform, label:*, attest:provenance, …)." }),
    ),
    importCache: Type.Optional(Type.Array(CacheImport, { maxItems: 4 })),
    exportCache: Type.Optional(Type.Array(CacheExport, { maxItems: 4 })),
    output: Type.Optional(Output),
    outputs: Type.Optional(
      Type.Array(Output, { minItems: 2, maxItems: 4, description: "Several exporters for one build (BuildKit >= 0.13.0). Use output for one." }),
    ),
    sourcePolicy: Type.Optional(ScenarioPath("A source policy JSON file (templated), passed as --source-policy-file.")),
    noCache: Type.Optional(Type.Boolean({ description: "--no-cache" })),
  },
  { additionalProperties: false },
);

const Empty = Type.Union([Type.Null(), Type.Object({}, { additionalProperties: false })], { "x-expected": "nothing, or {}" });
const Edit = {
  write: Type.Object(
    { path: ScenarioPath("The file to write (created with its folders)."), content: Type.String({ maxLength: LIMITS.editContentLength }) },
    { additionalProperties: false, description: "Writes a file of the working copy ({{iteration}} allowed in content inside repeat)." },
  ),
  append: Type.Object(
    { path: ScenarioPath("The file to append to."), content: Type.String({ maxLength: LIMITS.editContentLength }) },
    { additionalProperties: false, description: "Appends to a file of the working copy." },
  ),
  touch: Type.Object(
    { path: ScenarioPath("The file or folder."), time: Type.Integer({ minimum: 0, maximum: 4102444800, description: "Unix seconds (until 2100)." }) },
    { additionalProperties: false, description: "Sets the access and modification time." },
  ),
  chmod: Type.Object(
    { path: ScenarioPath("The file or folder."), mode: expected(Type.String({ pattern: "^0?[0-7]{3,4}$" }), 'an octal mode in quotes, e.g. "0755"') },
    { additionalProperties: false, description: "Changes permission bits." },
  ),
  delete: Type.Object({ path: ScenarioPath("The file or folder to delete.") }, { additionalProperties: false }),
  copy: Type.Object({ from: ScenarioPath("The file to copy."), to: ScenarioPath("Where to copy it.") }, { additionalProperties: false }),
};

/** Steps that may appear anywhere, including inside repeat. */
const innerSteps = {
  build: Build,
  prune: Type.Union(
    [Type.Null(), Type.Object({ all: Type.Optional(Type.Boolean({ description: "buildctl prune --all" })) }, { additionalProperties: false })],
    {
      description: "buildctl prune: drops the daemon's build cache.",
      "x-expected": "nothing, {} or { all: true }",
    },
  ),
  "fresh-builder": { ...Empty, description: "Replaces the daemon with one whose state is empty: a new CI runner." },
  "remove-image": Type.Object(
    { ref: Type.String({ minLength: 1, maxLength: 300, description: "An image in the test registry, e.g. {{registry}}/{{scenario}}:latest." }) },
    {
      additionalProperties: false,
      description: "docker rmi --force: drops the image from a dockerd engine's local store. A standalone buildkitd has no image store: there it does nothing.",
    },
  ),
  pull: Type.Object(
    { ref: Type.String({ minLength: 1, maxLength: 300, description: "An image in the test registry." }) },
    {
      additionalProperties: false,
      description: "docker pull into a dockerd engine's local store. A standalone buildkitd resolves images at build time: there it does nothing.",
    },
  ),
  wait: Type.Object(
    { seconds: Type.Number({ exclusiveMinimum: 0, maximum: LIMITS.waitSeconds }) },
    { additionalProperties: false, description: "Waits, e.g. so that two builds cannot fall in the same wall-clock second." },
  ),
  ...Edit,
};

const oneKey = <P extends Record<string, TSchema>>(properties: P, description: string) =>
  Type.Object(
    Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof P]: ReturnType<typeof Type.Optional<P[K]>> },
    {
      additionalProperties: false,
      minProperties: 1,
      maxProperties: 1,
      description,
      "x-expected": `a mapping with exactly one of: ${Object.keys(properties).join(", ")}`,
    },
  );

const InnerStep = oneKey(innerSteps, "One step.");
const Repeat = Type.Object(
  {
    times: Type.Integer({ minimum: 1, maximum: LIMITS.repeatTimes, description: "Run the steps this many times." }),
    extendTo: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: LIMITS.repeatTimes,
        description: "For racy bugs: while every assertion still holds after `times` iterations, go on until one fails or this many ran.",
      }),
    ),
    steps: Type.Array(InnerStep, { minItems: 1, maxItems: LIMITS.stepsPerList }),
  },
  { additionalProperties: false, description: "Runs steps several times; {{iteration}} is 1, 2, … Repeats do not nest." },
);
const Step = oneKey({ ...innerSteps, repeat: Repeat }, "One step.");

const Digest = Type.Enum(["image", "manifest", "config", "layers"], {
  description: "image: what the build reported (manifest or index); manifest: the platform's image manifest; config; layers: the list of diff_ids.",
});
const OutputIndex = Type.Integer({ minimum: 0, maximum: 3, description: "Which of the build's outputs (0-based); default: its first image." });
const Operand = Type.Union([BuildRef, Type.Object({ build: BuildRef, output: OutputIndex }, { additionalProperties: false })], {
  description: "A build name, or {build, output} to pick one of its outputs.",
  "x-expected": "a build name, or { build: <name>, output: <index> }",
});
const Pair = Type.Array(Operand, { minItems: 2, maxItems: 2 });
const Body = <P extends Record<string, TSchema>>(properties: P, description: string) =>
  Type.Object({ ...properties, versions: Type.Optional(Versions) }, { additionalProperties: false, description });
const OnBuild = { build: BuildRef, output: Type.Optional(OutputIndex) };

const assertionKinds = {
  "build-succeeds": Body(
    { build: BuildRef },
    "The build exits 0. Builds without this assertion must succeed too; say it to let a known bug explain a failure.",
  ),
  "digest-stable": Body({ ...OnBuild, digest: Digest }, "The digest is the same in every run of a build inside repeat."),
  "digest-equal": Body({ builds: Pair, digest: Digest }, "The last runs of two builds (or two outputs) have the same digest."),
  "digest-differs": Body({ builds: Pair, digest: Digest }, "The last runs of two builds have different digests."),
  "step-cached": Body(
    {
      build: BuildRef,
      step: Type.String({ minLength: 1, maxLength: 300, description: "Text of exactly one instruction of the Dockerfile, e.g. RUN head -c 16" }),
      cached: Type.Boolean(),
    },
    "The step was reused from cache (true) or executed (false) in every run of the build.",
  ),
  "file-equal": Body(
    { builds: Pair, path: expected(Type.String({ pattern: "^/", maxLength: 300 }), "an absolute path in the image") },
    "The file has the same content in both images.",
  ),
  "file-differs": Body(
    { builds: Pair, path: expected(Type.String({ pattern: "^/", maxLength: 300 }), "an absolute path in the image") },
    "The file's content differs.",
  ),
  "inline-cache-keeps-results": Body({ build: BuildRef }, "No inline cache record loses its layers or chains between consecutive runs (needs at least two)."),
  "layer-mtimes": Body(
    {
      ...OnBuild,
      notAfter: Type.Integer({ minimum: 0, description: "Unix seconds." }),
      layers: Type.Optional(Type.Enum(["last", "new", "all"], { description: "new: the layers the build added on top of its base image (default last)." })),
    },
    "No tar entry of the chosen layers is dated after notAfter.",
  ),
  whiteout: Body(
    {
      ...OnBuild,
      path: expected(Type.String({ pattern: "^/", maxLength: 300 }), "an absolute path in the image"),
      mtimeNotAfter: Type.Optional(Type.Integer({ minimum: 0 })),
    },
    "A layer deletes the path with a whiteout (dated no later than mtimeNotAfter).",
  ),
  "config-key": Body(
    { ...OnBuild, key: Type.String({ minLength: 1, maxLength: 200 }), present: Type.Boolean() },
    "The image config has (or lacks) a top-level key.",
  ),
  "config-field": Body(
    {
      ...OnBuild,
      field: expected(Type.String({ pattern: "^[A-Za-z0-9_.-]{1,200}$" }), "a dotted path such as created or history.1.created"),
      equals: Scalar,
    },
    "A field of the image config equals the value.",
  ),
  "metadata-key": Body(
    { build: BuildRef, key: Type.String({ minLength: 1, maxLength: 200 }), present: Type.Boolean() },
    "The --metadata-file has (or lacks) the key.",
  ),
  "layer-from-base": Body(
    {
      ...OnBuild,
      layer: Type.Integer({ minimum: 0, description: "Index of the layer in the result's manifest (0 = bottom)." }),
      image: expected(Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,62}$" }), "a base image name"),
      baseLayer: Type.Optional(Type.Integer({ minimum: 0, description: "Index of the layer in the base image (default: the same index)." })),
    },
    "The result carries a base image's layer unchanged: the same blob digest, size and media type.",
  ),
  "output-readable": Body(
    OnBuild,
    "The output holds a complete image: the archive, layout or pushed image has every document and blob its index names, so OCI tools can read it.",
  ),
  annotation: Body(
    {
      ...OnBuild,
      on: Type.Enum(["index", "manifest", "layer"], { description: "Where the annotation is." }),
      layer: Type.Optional(Type.Integer({ minimum: 0, description: "on: layer: the layer's index (0 = bottom)." })),
      key: Type.String({ minLength: 1, maxLength: 200 }),
      equals: Type.Optional(Type.String({ maxLength: LIMITS.attributeValueLength, description: "Omit to assert only that the key is present." })),
      present: Type.Optional(Type.Boolean({ description: "false: the key must be absent." })),
    },
    "An annotation of the image index, manifest or a layer descriptor.",
  ),
};

const Assertion = Type.Object(
  {
    id: { ...Name, description: "Names the assertion; knownBugs[].explains refers to it." },
    ...(Object.fromEntries(Object.entries(assertionKinds).map(([k, v]) => [k, Type.Optional(v)])) as {
      [K in keyof typeof assertionKinds]: ReturnType<typeof Type.Optional<(typeof assertionKinds)[K]>>;
    }),
  },
  {
    additionalProperties: false,
    required: ["id"],
    minProperties: 2,
    maxProperties: 2,
    "x-expected": `an id and exactly one of: ${Object.keys(assertionKinds).join(", ")}`,
  },
);

const Explained = Type.Union(
  [
    { ...Name, description: "The id of an assertion this bug makes fail." },
    Type.Object(
      {
        assertion: { ...Name, description: "The id of an assertion this bug makes fail." },
        actualContains: Type.String({
          minLength: 1,
          maxLength: 300,
          description: "The failure counts as this bug only if what was observed contains this text (e.g. the build's error message, or panic: for a crash).",
        }),
      },
      { additionalProperties: false },
    ),
  ],
  { "x-expected": "an assertion id, or { assertion: <id>, actualContains: <text> }" },
);

const KnownBug = Type.Object(
  {
    versions: Range("The BuildKit versions this entry is about (a dockerd builder's embedded BuildKit)."),
    builder: Type.Optional(Type.Enum(["buildkitd", "dockerd"], { description: "Only on this kind of builder (default: every kind the scenario runs on)." })),
    engine: Type.Optional(Range("Only on dockerd engines of these versions (the engine's own version, e.g. >=27.0.0 <27.2.0).")),
    status: Type.Enum(["reproduces", "fixed"], {
      description: "reproduces: the explained assertions are known to fail there (a pass is loud); fixed: documents the fix; there they must hold.",
    }),
    fixedIn: Type.Optional(expected(Type.String({ pattern: "^v\\d+\\.\\d+\\.\\d+$" }), "a release such as v0.25.0")),
    reference: expected(Type.String({ pattern: "^https://", maxLength: 300 }), "an https URL (the upstream issue or pull request)"),
    explains: Type.Array(Explained, {
      minItems: 1,
      maxItems: 20,
      description:
        "The assertions this bug makes fail; every other assertion must hold on these versions. An assertion may be named again with another actualContains: either symptom then counts.",
    }),
    racy: Type.Optional(
      Type.Object(
        {
          atLeast: Type.Integer({ minimum: 1, maximum: LIMITS.racyAttempts }),
          of: Type.Integer({ minimum: 1, maximum: LIMITS.racyAttempts }),
        },
        { additionalProperties: false, description: "The whole scenario runs `of` times; the bug must show in at least `atLeast` of them." },
      ),
    ),
    note: Type.Optional(Text("The evidence: what was measured, on which versions, and why it is believed.", 8000)),
  },
  { additionalProperties: false },
);

export const ScenarioDocument = Type.Object(
  {
    id: { ...Name, description: "The scenario's id: unique in the corpus, used in image names." },
    title: Text("One line saying what the scenario shows.", 200),
    upstream: Type.Array(
      expected(
        Type.String({ pattern: "^https://github\\.com/[^/]+/[^/]+/(issues|pull)/\\d+$" }),
        "a GitHub issue or pull request URL, e.g. https://github.com/moby/buildkit/issues/3009",
      ),
      { minItems: 1, maxItems: 10, description: "The upstream issues this reproduces." },
    ),
    tags: Type.Optional(Type.Array({ ...Name, description: "A tag for filtering reports." }, { maxItems: 20 })),
    expectation: Text("What users expect BuildKit to do, in words.", 4000),
    applies: Type.Optional(Range("BuildKit versions the scenario makes sense on (features it needs); elsewhere it is not applicable.")),
    builders: Type.Optional(
      Type.Array(Type.Enum(["buildkitd", "dockerd"]), {
        minItems: 1,
        maxItems: 2,
        uniqueItems: true,
        description: "The kinds of builder the scenario runs on (default [buildkitd]); elsewhere it is not applicable.",
      }),
    ),
    images: Type.Optional(
      MapOf(
        expected(Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,62}$" }), "a base image name"),
        ScenarioPath("An OCI image layout (folder or tar) or a docker save tarball."),
        {
          description: "Base images shipped in the scenario folder, pushed byte-for-byte into the test registry and used as {{image:<name>}}.",
        },
      ),
    ),
    knownBugs: Type.Optional(Type.Array(KnownBug, { maxItems: 10 })),
    steps: Type.Array(Step, { minItems: 1, maxItems: LIMITS.stepsPerList }),
    assertions: Type.Array(Assertion, { minItems: 1, maxItems: LIMITS.assertions }),
  },
  { additionalProperties: false, $id: "https://github.com/buildkit-repro/scenario.schema.json", title: "buildkit-repro scenario" },
);

export type ScenarioDocument = Static<typeof ScenarioDocument>;
export type BuildDocument = Static<typeof Build>;
export type StepDocument = Static<typeof Step>;
export type InnerStepDocument = Static<typeof InnerStep>;
export type AssertionDocument = Static<typeof Assertion>;
export type KnownBugDocument = Static<typeof KnownBug>;
export type OutputDocument = Static<typeof Output>;
export type CacheImportDocument = Static<typeof CacheImport>;
export type CacheExportDocument = Static<typeof CacheExport>;
export type OperandDocument = Static<typeof Operand>;
