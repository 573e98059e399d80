/**
 * Bounds on what a scenario may ask for. A scenario is untrusted input (it comes from pull
 * requests): these keep one from exhausting the machine or the run's time. They are
 * generous for every real scenario in the corpus; raising one is a reviewed change here.
 */
export const LIMITS = {
  /** Iterations of one repeat (times and extendTo). */
  repeatTimes: 50,
  /** Attempts of a racy bug (racy.of). */
  racyAttempts: 10,
  /** Builds one scenario may run in all: attempts × every repeat's extendTo × builds. */
  builds: 300,
  stepsPerList: 100,
  assertions: 100,
  waitSeconds: 10,
  attributeValueLength: 1000,
  editContentLength: 64 * 1024,
  /** scenario.yaml, Dockerfiles, source policies. */
  textFileBytes: 1024 * 1024,
  /** Any one file of the folder (image archives included). */
  fileBytes: 128 * 1024 * 1024,
  /** The whole folder. */
  folderBytes: 256 * 1024 * 1024,
  folderEntries: 5000,
  folderDepth: 32,
  /** Nesting of mappings and lists in scenario.yaml (real scenarios use about 8). */
  yamlDepth: 32,
} as const;
