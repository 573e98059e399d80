/**
 * BuildKit workers as `buildctl debug workers` lists them: `--format '{{json .}}'` (client
 * ≥ v0.10.0) or the verbose table (`-v`) of older clients.
 */

const SNAPSHOTTER_LABEL = "org.mobyproject.buildkit.worker.snapshotter";

export interface WorkerInfo {
  id: string;
  labels: Record<string, string>;
  /** "os/arch[/variant]", e.g. "linux/amd64/v2". */
  platforms: string[];
  /** The daemon's version as the worker reports it (daemons ≥ v0.11). */
  buildkitVersion?: { package?: string; version?: string; revision?: string };
}

interface OciPlatformJson {
  os: string;
  architecture: string;
  variant?: string;
}

interface WorkerInfoJson {
  id: string;
  labels?: Record<string, string> | null;
  platforms?: OciPlatformJson[] | null;
  buildkitVersion?: { package?: string; version?: string; revision?: string };
}

function formatPlatform(p: OciPlatformJson): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

export function parseWorkersJson(stdout: string): WorkerInfo[] {
  const text = stdout.trim();
  if (text === "" || text === "null") return [];
  return (JSON.parse(text) as WorkerInfoJson[]).map((w) => {
    const info: WorkerInfo = {
      id: w.id,
      labels: w.labels ?? {},
      platforms: (w.platforms ?? []).map(formatPlatform),
    };
    if (w.buildkitVersion?.version) info.buildkitVersion = w.buildkitVersion;
    return info;
  });
}

/** `debug workers -v`: "ID:", "Platforms:" (comma-separated), "Labels:" then tab-indented "k:<tabs>v". */
export function parseWorkersVerbose(stdout: string): WorkerInfo[] {
  const workers: WorkerInfo[] = [];
  let current: WorkerInfo | undefined;
  let inLabels = false;
  for (const line of stdout.split("\n")) {
    const top = /^([A-Za-z][A-Za-z #0-9]*):\s*(.*)$/.exec(line);
    if (top) {
      const [, key, value] = top;
      inLabels = key === "Labels";
      if (key === "ID") {
        current = { id: value!.trim(), labels: {}, platforms: [] };
        workers.push(current);
      } else if (key === "Platforms" && current) {
        current.platforms = value!
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      } else if (key === "BuildKit" && current) {
        const [pkg, version, revision] = value!.trim().split(/\s+/);
        current.buildkitVersion = { package: pkg, version, revision };
      }
      continue;
    }
    const label = /^\t([^\t:][^\t]*?):\t+(.*)$/.exec(line);
    if (inLabels && label && current) current.labels[label[1]!] = label[2]!.trim();
  }
  return workers;
}

/** The worker's snapshotter ("overlayfs", "native", "fuse-overlayfs", ...), if labelled. */
export function workerSnapshotter(worker: WorkerInfo): string | undefined {
  return worker.labels[SNAPSHOTTER_LABEL];
}
