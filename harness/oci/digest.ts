import { createHash, getHashes } from "node:crypto";

/** `sha256:<hex>` of the bytes. */
export function digestOf(bytes: Uint8Array | string, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

const DIGEST = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export function isDigest(reference: string): boolean {
  return DIGEST.test(reference);
}

/**
 * Recomputes `expected` over the bytes with the algorithm it names; undefined when it
 * matches, else the digest the bytes actually have.
 */
export function digestMismatch(bytes: Uint8Array, expected: string): string | undefined {
  const algorithm = DIGEST.exec(expected)?.[1];
  if (!algorithm || !getHashes().includes(algorithm)) return `(unsupported digest "${expected}")`;
  const actual = digestOf(bytes, algorithm);
  return actual === expected ? undefined : actual;
}
