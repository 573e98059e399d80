/**
 * A build context directory as the tar body of POST /build: entries in sorted order with
 * their modes and modification times (as the docker CLI sends them), owned by root,
 * symlinks kept as symlinks. Nothing outside the directory is read.
 */
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import tar from "tar-stream";
import { HarnessError } from "../errors.ts";

export interface ExtraFile {
  readonly name: string;
  readonly content: string;
}

async function addTree(pack: tar.Pack, dir: string, prefix: string, taken: Set<string>): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const name = prefix ? `${prefix}/${entry.name}` : entry.name;
    taken.add(name);
    const st = await lstat(path);
    const common = { name, mode: st.mode & 0o7777, mtime: st.mtime, uid: 0, gid: 0 };
    if (st.isDirectory()) {
      pack.entry({ ...common, type: "directory" });
      await addTree(pack, path, name, taken);
    } else if (st.isSymbolicLink()) {
      pack.entry({ ...common, type: "symlink", linkname: await readlink(path) });
    } else if (st.isFile()) {
      await pipeline(createReadStream(path), pack.entry({ ...common, size: st.size }));
    }
  }
}

/** Streams `dir` (plus `extra` files at its root, which must not exist there) as an uncompressed tar. */
export function packContext(dir: string, extra: readonly ExtraFile[] = []): NodeJS.ReadableStream {
  const pack = tar.pack();
  const taken = new Set<string>();
  addTree(pack, dir, "", taken)
    .then(() => {
      for (const file of extra) {
        if (taken.has(file.name)) {
          throw new HarnessError(
            "SCENARIO_INVALID",
            `The build context ${dir} already has ${file.name}, which the harness writes for a dockerd build.`,
            file.name === ".dockerignore"
              ? "dockerd builds here do not apply a context's own .dockerignore yet; run this scenario on buildkitd only."
              : "Rename that file in the scenario's context.",
          );
        }
        pack.entry({ name: file.name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, file.content);
      }
      pack.finalize();
    })
    .catch((err: unknown) => pack.destroy(err as Error));
  return pack as unknown as NodeJS.ReadableStream;
}
