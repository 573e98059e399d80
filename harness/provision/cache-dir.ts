import { homedir } from "node:os";
import { join } from "node:path";

/** Where provisioned artefacts (built binaries, extracted buildctl) live between runs. */
export function cacheDir(...parts: string[]): string {
  const root = process.env.BUILDKIT_REPRO_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "buildkit-repro");
  return join(root, ...parts);
}
