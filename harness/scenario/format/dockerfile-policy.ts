/**
 * What a scenario's Dockerfile may make BuildKit fetch: only images in the test registry
 * (its base images, its own earlier builds) and its own build context. No frontend image
 * (a syntax directive in any form the frontend reads), no URL or git source, no variables
 * in image names (the harness must know every image before the build), no entitlements
 * the harness never grants.
 */
import { instructionText, mountFields, type ParsedDockerfile, splitFlags } from "./dockerfile.ts";
import { inRegistry } from "./reference.ts";

export interface DockerfileProblem {
  readonly line: number;
  readonly message: string;
}

const REMOTE_SOURCE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

/** Problems with a templated Dockerfile, given the host builders reach the test registry at. */
export function dockerfileProblems(dockerfile: ParsedDockerfile, registryHost: string): DockerfileProblem[] {
  const problems: DockerfileProblem[] = [];
  if (dockerfile.syntaxLine !== undefined) {
    problems.push({
      line: dockerfile.syntaxLine,
      message:
        'a syntax directive (# syntax=, // syntax= or a JSON "syntax" key) makes BuildKit pull a frontend image; remove it (the harness uses the Dockerfile frontend built into buildkitd)',
    });
  }
  const stages = new Set<string>();
  const imageProblem = (ref: string, where: string): string | undefined => {
    if (ref.includes("$")) return `${where} uses a variable (${ref}); name the image directly with {{image:NAME}} or {{registry}}/…`;
    if (ref.toLowerCase() === "scratch" || stages.has(ref.toLowerCase()) || /^\d+$/.test(ref)) return undefined;
    if (inRegistry(ref, registryHost)) return undefined;
    return `${where} names ${JSON.stringify(ref)}, which is neither a stage nor an image of the test registry; use {{image:NAME}} or {{registry}}/…`;
  };
  const check = (keyword: string, args: string, line: number): void => {
    const { flags, rest } = splitFlags(args);
    const add = (message: string | undefined) => {
      if (message) problems.push({ line, message });
    };
    // BuildKit unquotes flag values and reads --mount as CSV ("from=alpine" is a from):
    // the checks below read them unquoted, so a quote could hide an image from them.
    for (const [name, values] of flags) {
      if (values.some((v) => /["']/.test(v))) add(`${keyword} --${name} has a quoted value; write it without quotes (--${name}=a,b=c)`);
    }
    switch (keyword) {
      case "FROM": {
        const [image = "", as, name] = rest.split(/\s+/);
        add(imageProblem(image, "FROM"));
        if (as?.toLowerCase() === "as" && name) stages.add(name.toLowerCase());
        break;
      }
      case "COPY":
      case "ADD":
        for (const from of flags.get("from") ?? []) add(imageProblem(from, `${keyword} --from`));
        if (keyword === "ADD") {
          const sources = rest.startsWith("[") ? jsonArray(rest).slice(0, -1) : rest.split(/\s+/).slice(0, -1);
          for (const source of sources) {
            if (REMOTE_SOURCE.test(source)) add(`ADD ${source} fetches from the network; put the file in the build context instead`);
          }
        }
        break;
      case "RUN":
        for (const mount of flags.get("mount") ?? []) {
          const from = mountFields(mount).get("from");
          if (from !== undefined) add(imageProblem(from, "RUN --mount from="));
        }
        for (const network of flags.get("network") ?? []) {
          if (network === "host") add("RUN --network=host needs an entitlement the harness never grants; builds run without network");
        }
        for (const security of flags.get("security") ?? []) {
          if (security === "insecure") add("RUN --security=insecure needs an entitlement the harness never grants");
        }
        break;
      case "ONBUILD": {
        const m = /^(\S+)\s*(.*)$/s.exec(rest);
        if (m) check(m[1]!.toUpperCase(), m[2]!, line);
        break;
      }
    }
  };
  for (const instruction of dockerfile.instructions) check(instruction.keyword, instruction.args, instruction.line);
  return problems;
}

function jsonArray(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.map(String) : [];
  } catch {
    return [];
  }
}

/** How many instructions contain `step` (whitespace-normalised): a step-cached assertion must name exactly one. */
export function instructionsMatching(dockerfile: ParsedDockerfile, step: string): number {
  const wanted = step.replace(/\s+/g, " ").trim();
  return dockerfile.instructions.filter((i) => instructionText(i).includes(wanted)).length;
}
