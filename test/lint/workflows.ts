/**
 * Lints .github/workflows with actionlint, pinned, built from its Go module into the
 * harness's cache (the Go module proxy is reachable where GitHub release downloads are
 * not). Exits non-zero on any finding. Run by `npm test`; alone: `npm run lint:workflows`.
 *
 * shellcheck and pyflakes are turned off so that the result does not depend on what else
 * happens to be installed on the machine.
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { execa } from "execa";
import { runCommand } from "../../harness/cli/entry.ts";
import { HarnessError } from "../../harness/errors.ts";
import { log } from "../../harness/log.ts";
import { cacheDir } from "../../harness/provision/cache-dir.ts";

const MODULE = "github.com/rhysd/actionlint/cmd/actionlint";
const VERSION = "v1.7.12";
const ROOT = resolve(import.meta.dirname, "../..");

async function actionlint(): Promise<string> {
  const bin = cacheDir("tools", `actionlint-${VERSION}`);
  const path = join(bin, "actionlint");
  if (existsSync(path)) return path;
  log("lint", `building actionlint ${VERSION} from the Go module proxy into ${bin}`);
  const built = await execa("go", ["install", `${MODULE}@${VERSION}`], { env: { ...process.env, GOBIN: bin, CGO_ENABLED: "0" }, reject: false, all: true });
  if (built.exitCode !== 0 || !existsSync(path)) {
    throw new HarnessError(
      "HOST_PROVISION_FAILED",
      `Could not build actionlint ${VERSION}: ${built.all || built.message}`,
      "The workflow lint needs Go (≥ 1.21) and the Go module proxy; the same Go builds BuildKit locally.",
    );
  }
  return path;
}

runCommand(async () => {
  const dir = join(ROOT, ".github", "workflows");
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
  const result = await execa(await actionlint(), ["-shellcheck=", "-pyflakes=", ...files], { cwd: ROOT, reject: false, all: true });
  if (result.all) process.stdout.write(`${result.all}\n`);
  if (result.exitCode === 0) process.stdout.write(`actionlint ${VERSION}: ${files.length} workflow file(s), no findings\n`);
  return result.exitCode ?? 1;
});
