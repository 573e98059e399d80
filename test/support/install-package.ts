/**
 * Installs one Debian package through the harness's queue, as a command of its own, for
 * test/e2e/host-packages.test.ts to interrupt:
 *   node --import tsx test/support/install-package.ts <package> <file it provides>
 */
import { runCommand } from "../../harness/cli/entry.ts";
import { provisionHostPackages } from "../../harness/provision/host-packages.ts";

const [name = "", provides = ""] = process.argv.slice(2);
runCommand(async () => {
  await provisionHostPackages([{ package: { name, provides }, neededBy: ["the interruption test"] }]);
  return 0;
});
