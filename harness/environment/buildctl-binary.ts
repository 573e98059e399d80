import { existsSync } from "node:fs";
import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import tar from "tar-stream";
import { HarnessError } from "../errors.ts";
import { cacheDir } from "../provision/cache-dir.ts";
import { docker } from "../provision/docker-client.ts";
import type { ProvisionedImage } from "../provision/image-source.ts";
import { resourceLabels } from "./labels.ts";

export interface BuildctlBinary {
  readonly path: string;
  /** e.g. "v0.13.2", from `buildctl --version`. */
  readonly version: string;
}

async function readVersion(path: string): Promise<string> {
  const { stdout } = await execa(path, ["--version"]);
  // "buildctl github.com/moby/buildkit v0.13.2 <revision>"
  const version = stdout.split(/\s+/)[2];
  if (!version) throw new Error(`unexpected \`buildctl --version\` output: ${stdout}`);
  return version;
}

/**
 * The buildctl that ships in the daemon's own image, copied to the host once per image
 * id, so the client always matches the daemon unless the caller asks for another.
 */
export async function buildctlFromImage(image: ProvisionedImage): Promise<BuildctlBinary> {
  const dir = cacheDir("buildctl", image.imageId.replace("sha256:", "").slice(0, 16));
  const path = join(dir, "buildctl");
  if (existsSync(path)) return { path, version: await readVersion(path) };
  const container = await docker.createContainer({ Image: image.reference, Labels: resourceLabels(), Entrypoint: ["/usr/bin/buildctl"] });
  try {
    const archive = await container.getArchive({ path: "/usr/bin/buildctl" });
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const extract = tar.extract();
      let found: Buffer | undefined;
      extract.on("entry", (header, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: unknown) => void chunks.push(c as Buffer));
        stream.on("end", () => {
          if (header.name.endsWith("buildctl") && header.type === "file") found = Buffer.concat(chunks);
          next();
        });
      });
      extract.on("finish", () => (found ? resolve(found) : reject(new Error("no buildctl in the archive"))));
      extract.on("error", reject);
      archive.pipe(extract);
    });
    await mkdir(dir, { recursive: true });
    await writeFile(`${path}.partial`, bytes);
    await chmod(`${path}.partial`, 0o755);
    await rename(`${path}.partial`, path);
    return { path, version: await readVersion(path) };
  } catch (err) {
    throw new HarnessError(
      "IMAGE_PROVISION_FAILED",
      `Could not take buildctl out of ${image.reference}: ${(err as Error).message}`,
      "The BuildKit image must contain /usr/bin/buildctl (official images and local builds do).",
      { cause: err },
    );
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
