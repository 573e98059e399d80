/**
 * Image references as the distribution spec defines them (docker/distribution's
 * reference grammar), and the rule that everything a scenario names lives in the test
 * registry: a reference elsewhere would make BuildKit contact the network.
 */

const COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const PATH = `${COMPONENT}(?:/${COMPONENT})*`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const REPOSITORY_REFERENCE = new RegExp(`^(${PATH})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

/** The parts of `<path>[:tag][@digest]` below a registry host, or undefined when it is not one. */
export function parseRepositoryReference(rest: string): { repository: string; tag?: string; digest?: string } | undefined {
  if (rest.length > 255) return undefined;
  const m = REPOSITORY_REFERENCE.exec(rest);
  if (!m) return undefined;
  return { repository: m[1]!, ...(m[2] ? { tag: m[2] } : {}), ...(m[3] ? { digest: m[3] } : {}) };
}

/**
 * Whether `reference` names an image in the registry at `host` (as builders see it,
 * e.g. "registry:5000"), and nothing else: no second name after a comma (BuildKit's image
 * exporter splits its `name` on commas), no other host.
 */
export function inRegistry(reference: string, host: string): boolean {
  if (!reference.startsWith(`${host}/`)) return false;
  return parseRepositoryReference(reference.slice(host.length + 1)) !== undefined;
}

/** The repository part of a reference in the registry at `host`, or undefined. */
