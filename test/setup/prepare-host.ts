/**
 * Prepares this host for the named test projects, before any of them runs:
 *   node --import tsx test/setup/prepare-host.ts [unit] [e2e]
 * Plans every Debian package they need and installs the missing ones in one go; for e2e
 * also starts a Docker engine if none answers. A separate process from vitest's, so a
 * Ctrl-C lets a running apt-get finish (vitest itself exits at once on SIGINT).
 */
import { runCommand } from "../../harness/cli/entry.ts";
import { log } from "../../harness/log.ts";
import { prepareEnvironmentHost } from "../../harness/provision/environment-host.ts";
import { provisionHostPackages } from "../../harness/provision/host-packages.ts";
import { type HostActivity, planHostPackages } from "../../harness/provision/host-plan.ts";
import { defaultVersion } from "../../harness/provision/versions.ts";

/** The unit project reads /bin/busybox and runs the registry binary on the host. */
const UNIT: readonly HostActivity[] = ["base-images", "serve-registry-on-host"];

runCommand(async () => {
  const projects = new Set(process.argv.slice(2));
  const unknown = [...projects].filter((p) => p !== "unit" && p !== "e2e");
  if (unknown.length > 0) {
    process.stderr.write(`usage: prepare-host.ts [unit] [e2e] (unknown: ${unknown.join(", ")})\n`);
    return 2;
  }
  const unit = projects.has("unit") ? UNIT : [];
  if (projects.has("e2e")) {
    const { engine } = await prepareEnvironmentHost(defaultVersion(), unit);
    log("prepare", `Docker engine ${engine.serverVersion} ${engine.provenance === "started" ? "started" : "answers"}; host packages in place`);
  } else if (unit.length > 0) {
    await provisionHostPackages(planHostPackages(unit));
  }
  return 0;
});
