import { chmod, copyFile, mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { HOST_PACKAGES } from "./host-packages.ts";

/** A root filesystem being assembled in a host directory, for an image with no base. */
export class RootfsBuilder {
  constructor(readonly dir: string) {}

  async addFile(hostPath: string, imagePath: string, mode = 0o755): Promise<void> {
    const dest = join(this.dir, imagePath);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(hostPath, dest);
    await chmod(dest, mode);
  }

  async writeFile(imagePath: string, content: string, mode = 0o644): Promise<void> {
    const dest = join(this.dir, imagePath);
    await mkdir(dirname(dest), { recursive: true });
    await writeFile(dest, content);
    await chmod(dest, mode);
  }

  async mkdir(imagePath: string, mode = 0o755): Promise<void> {
    const dest = join(this.dir, imagePath);
    await mkdir(dest, { recursive: true });
    await chmod(dest, mode);
  }

  /** Copies a dynamically linked host binary with the shared libraries `ldd` says it loads. */
  async addBinaryWithLibraries(hostPath: string, imagePath: string): Promise<void> {
    await this.addFile(hostPath, imagePath);
    const { stdout } = await execa("ldd", [hostPath], { reject: false });
    for (const line of stdout.split("\n")) {
      // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
      const lib = /=>\s*(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1];
      if (lib) await this.addFile(lib, lib);
    }
  }

  /** Debian's static busybox as /bin/busybox plus the applets a shell script needs. */
  async addBusybox(applets: readonly string[]): Promise<void> {
    await this.addFile(HOST_PACKAGES.busyboxStatic.provides, "/bin/busybox");
    for (const applet of applets) await symlink("busybox", join(this.dir, "bin", applet));
  }
}
