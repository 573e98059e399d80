import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type Dockerode from "dockerode";
import tar from "tar-stream";
import { HarnessError } from "../errors.ts";
import { log } from "../log.ts";
import { docker } from "./docker-client.ts";

/** Labels this project puts on every image it builds, saying how it was made. */
export const LABEL_PREFIX = "org.buildkit-repro";

export async function inspectImage(ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(ref).inspect();
  } catch {
    return undefined;
  }
}

/** Pulls `ref`; resolves false (with the reason logged) when no registry can be reached. */
export async function tryPull(ref: string, timeoutMs = 120_000): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const stream = await docker.pull(ref);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pull timed out after ${timeoutMs / 1000} s`)), timeoutMs);
      docker.modem.followProgress(stream, (err: Error | null) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      });
    });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split("\n")[0] ?? String(err) };
  }
}

/** Adds the tree under `dir` to `pack` below `prefix`, in sorted order, keeping modes and symlinks. */
async function addTree(pack: tar.Pack, dir: string, prefix: string): Promise<void> {
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    const name = `${prefix}/${entry.name}`;
    const st = await lstat(path);
    if (entry.isDirectory()) {
      pack.entry({ name, type: "directory", mode: st.mode & 0o7777 });
      await addTree(pack, path, name);
    } else if (entry.isSymbolicLink()) {
      pack.entry({ name, type: "symlink", linkname: await readlink(path), mode: 0o777 });
    } else {
      await pipeline(createReadStream(path), pack.entry({ name, size: st.size, mode: st.mode & 0o7777 }));
    }
  }
}

/**
 * Builds an image from a root filesystem directory with no base image: `FROM scratch`,
 * one COPY, labels and an entrypoint. Uses the engine's classic builder (API build
 * version 1), which every Docker engine has and which needs no image from a registry.
 */
export async function buildImageFromRootfs(opts: { rootfs: string; tag: string; labels: Record<string, string>; entrypoint: string[] }): Promise<string> {
  const dockerfile = [
    "FROM scratch",
    "COPY rootfs/ /",
    `ENTRYPOINT ${JSON.stringify(opts.entrypoint)}`,
    ...Object.entries(opts.labels).map(([k, v]) => `LABEL ${JSON.stringify(k)}=${JSON.stringify(v)}`),
  ].join("\n");
  try {
    const context = tar.pack();
    context.entry({ name: "Dockerfile" }, `${dockerfile}\n`);
    addTree(context, opts.rootfs, "rootfs").then(
      () => context.finalize(),
      (err: Error) => context.destroy(err),
    );
    const stream = await docker.buildImage(context as unknown as NodeJS.ReadableStream, {
      t: opts.tag,
      version: "1",
      rm: true,
      forcerm: true,
    });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
        const failure = err?.message ?? output.find((o) => o.error)?.error;
        if (failure) reject(new Error(failure));
        else resolve();
      });
    });
    const image = await inspectImage(opts.tag);
    if (!image) throw new Error(`the engine reported success but ${opts.tag} does not exist`);
    log("provision", `built image ${opts.tag} (${image.Id.slice(0, 19)})`);
    return image.Id;
  } catch (err) {
    throw new HarnessError(
      "IMAGE_PROVISION_FAILED",
      `Building image ${opts.tag} from ${opts.rootfs} failed: ${(err as Error).message}`,
      "Check that the Docker engine is healthy (`docker info`) and has disk space.",
      { cause: err },
    );
  }
}
