/**
 * Records of BuildKit's cache store, as `buildctl du` and `buildctl prune` list them:
 * `--format '{{json .}}'` (client ≥ v0.11.0) or the verbose table (`-v`) of older clients.
 */

/** client.UsageInfo. */
export interface DiskUsageRecord {
  id: string;
  parents: string[];
  /** RFC 3339. */
  createdAt: string;
  lastUsedAt?: string;
  mutable: boolean;
  /** In use by a running build (verbose output: not "Reclaimable"). */
  inUse: boolean;
  shared: boolean;
  /** Bytes. From the verbose table this is rounded (it prints e.g. "3.06MB", decimal units). */
  size: number;
  description: string;
  usageCount: number;
  /** e.g. "regular", "source.local", "exec.cachemount", "internal", "frontend". */
  recordType: string;
}

interface UsageInfoJson {
  id: string;
  mutable?: boolean;
  inUse?: boolean;
  size?: number;
  createdAt?: string;
  lastUsedAt?: string | null;
  usageCount?: number;
  parents?: string[] | null;
  description?: string;
  recordType?: string;
  shared?: boolean;
}

function fromJson(u: UsageInfoJson): DiskUsageRecord {
  const rec: DiskUsageRecord = {
    id: u.id,
    parents: u.parents ?? [],
    createdAt: u.createdAt ?? "",
    mutable: u.mutable ?? false,
    inUse: u.inUse ?? false,
    shared: u.shared ?? false,
    size: u.size ?? 0,
    description: u.description ?? "",
    usageCount: u.usageCount ?? 0,
    recordType: u.recordType ?? "",
  };
  if (u.lastUsedAt) rec.lastUsedAt = u.lastUsedAt;
  return rec;
}

/**
 * `du --format '{{json .}}'` prints one JSON array; `prune --format '{{json .}}'` prints one
 * object per line. Both are accepted.
 */
export function parseDiskUsageJson(stdout: string): DiskUsageRecord[] {
  const text = stdout.trim();
  if (text === "" || text === "null") return [];
  if (text.startsWith("[")) return (JSON.parse(text) as UsageInfoJson[]).map(fromJson);
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => fromJson(JSON.parse(l) as UsageInfoJson));
}

const UNIT_BYTES: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  PB: 1e15,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** "3.06MB" → 3060000 (tonistiigi/units prints decimal units). */
export function parseByteSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]+)?$/.exec(text.trim());
  if (!m) return NaN;
  const unit = UNIT_BYTES[m[2] ?? "B"];
  return unit === undefined ? NaN : Math.round(Number(m[1]) * unit);
}

/** Go's time.Time.String() ("2026-11-23 22:03:24.752455434 +0000 UTC") → RFC 3339. */
export function goTimeToRfc3339(text: string): string {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d)(\d\d)/.exec(text.trim());
  if (!m) return text.trim();
  const offset = m[3] === "+00" && m[4] === "00" ? "Z" : `${m[3]}:${m[4]}`;
  return `${m[1]}T${m[2]}${offset}`;
}

/** The `-v` table: "Key:<tabs>value" lines, one blank-line-separated block per record. */
export function parseDiskUsageVerbose(stdout: string): DiskUsageRecord[] {
  const records: DiskUsageRecord[] = [];
  for (const block of stdout.split(/\n\s*\n/)) {
    const kv = new Map<string, string>();
    for (const line of block.split("\n")) {
      const m = /^([A-Za-z][A-Za-z ]*):\s*(.*)$/.exec(line);
      if (m) kv.set(m[1]!, m[2]!.trim());
    }
    const id = kv.get("ID");
    if (!id) continue; // the "Reclaimable:/Total:" summary
    const rec: DiskUsageRecord = {
      id,
      parents: kv.get("Parents")?.split(";").filter(Boolean) ?? [],
      createdAt: goTimeToRfc3339(kv.get("Created at") ?? ""),
      mutable: kv.get("Mutable") === "true",
      inUse: kv.get("Reclaimable") === "false",
      shared: kv.get("Shared") === "true",
      size: parseByteSize(kv.get("Size") ?? "0B"),
      description: kv.get("Description") ?? "",
      usageCount: Number(kv.get("Usage count") ?? 0),
      recordType: kv.get("Type") ?? "",
    };
    const lastUsed = kv.get("Last used");
    if (lastUsed) rec.lastUsedAt = goTimeToRfc3339(lastUsed);
    records.push(rec);
  }
  return records;
}
