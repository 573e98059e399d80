/**
 * Aborted when the process gets SIGINT or SIGTERM. Long operations (buildctl) take its
 * signal, and nothing reports a verdict after it fired: an interrupted run says nothing
 * about BuildKit.
 */
export const interruption = new AbortController();

export function interrupted(): boolean {
  return interruption.signal.aborted;
}
