/**
 * Edits change the scenario's working copy between builds, never the repository. The
 * loader checked every path; here each is checked again on the copy as it is at that
 * moment (an earlier build cannot add symlinks to it, but an earlier edit can create
 * folders): no component may be a symlink and the target must stay inside the copy.
 */
import { appendFile, chmod, copyFile, lstat, mkdir, rm, utimes, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { HarnessError } from "../../errors.ts";
import { isInside } from "../format/folder.ts";
import type { EditStep } from "../model.ts";

async function assertPlainPath(root: string, rel: string): Promise<string> {
  const target = join(root, rel);
  if (!isInside(root, target)) throw new HarnessError("SCENARIO_INVALID", `the edit path ${rel} leads outside the working copy`);
  const parts = relative(root, target).split("/");
  for (let i = 1; i <= parts.length; i++) {
    const st = await lstat(join(root, ...parts.slice(0, i))).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      throw new HarnessError("SCENARIO_INVALID", `the edit path ${rel} goes through the symlink ${parts.slice(0, i).join("/")} in the working copy`);
    }
  }
  return target;
}

/** Applies one edit to the working copy at `root`; `content` is already templated. */
export async function applyEdit(root: string, step: EditStep, content?: string): Promise<void> {
  const target = await assertPlainPath(root, step.path);
  switch (step.op) {
    case "write":
    case "append":
      await mkdir(dirname(target), { recursive: true });
      await (step.op === "write" ? writeFile(target, content ?? step.content) : appendFile(target, content ?? step.content));
      break;
    case "touch":
      await utimes(target, step.time, step.time);
      break;
    case "chmod":
      await chmod(target, step.mode);
      break;
    case "delete":
      await rm(target, { recursive: true });
      break;
    case "copy": {
      const from = await assertPlainPath(root, step.from);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(from, target);
      break;
    }
  }
}
