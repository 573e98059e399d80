import { log } from "../log.ts";
import { docker } from "../provision/docker-client.ts";
import { resourceLabels } from "./labels.ts";

/** How buildkitd containers get the rights they need to run RUN steps. */
export type PrivilegeMode =
  /** `--privileged`: what users expect on ordinary hosts. */
  | "privileged"
  /**
   * All capabilities but CAP_SYS_RESOURCE, no seccomp/apparmor, and cgroup filesystems
   * remounted read-write inside the container: for hosts whose capability bounding set
   * makes `--privileged` fail ("unable to apply caps").
   */
  | "capabilities";

let detected: Promise<PrivilegeMode> | undefined;

/**
 * Tries a privileged container once per process (BUILDKIT_REPRO_PRIVILEGED=1/0 overrides).
 * `image` is any local image with the given entrypoint command that exits at once.
 */
export function detectPrivilegeMode(image: string, command: string[]): Promise<PrivilegeMode> {
  const forced = process.env.BUILDKIT_REPRO_PRIVILEGED;
  if (forced === "1") return Promise.resolve("privileged");
  if (forced === "0") return Promise.resolve("capabilities");
  detected ??= (async () => {
    const container = await docker.createContainer({
      Image: image,
      Entrypoint: command,
      Labels: resourceLabels(),
      HostConfig: { Privileged: true, NetworkMode: "none" },
    });
    try {
      await container.start();
      await container.wait();
      log("environment", "--privileged works on this host; buildkitd runs privileged");
      return "privileged" as const;
    } catch (err) {
      const reason = (err as Error).message.split("\n").find((l) => l.includes("caps") || l.includes("permitted")) ?? (err as Error).message;
      log("environment", `--privileged fails on this host (${reason.trim().slice(0, 120)}); using explicit capabilities`);
      return "capabilities" as const;
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  })();
  return detected;
}
