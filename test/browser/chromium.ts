/**
 * Debian's chromium for the browser tests of the report page, installed the way the
 * harness installs every host package (planned, one apt-get, lock-aware).
 */
import { ensureHostPackages, type HostPackage } from "../../harness/provision/host-packages.ts";

export const CHROMIUM: HostPackage = { name: "chromium", provides: "/usr/bin/chromium" };

/** Flags that make Debian's chromium start on these machines (no user namespaces for its sandbox, no GPU). */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"];

export function ensureChromium(): Promise<void> {
  return ensureHostPackages([CHROMIUM], "the browser test of the report page");
}
