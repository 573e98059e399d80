/**
 * A replacement kept ready: the next daemon (or registry) starts in the background while
 * the current one works, so a scenario that asks for a fresh one takes it at once instead
 * of waiting for a container to start; the one it replaces is removed in the background
 * too. Starting and removing containers was most of a scenario's wall time, more than its
 * builds.
 */
import type { StartedTestContainer } from "testcontainers";
import { log } from "../log.ts";
import { containerFate } from "./container-fate.ts";

export interface StandbyLifecycle<T> {
  /** What is kept ready, for messages ("buildkitd", "registry"). */
  readonly what: string;
  start(): Promise<T>;
  /** Still usable now? One that died while waiting (killed, engine restarted) is not handed out. */
  alive(item: T): Promise<boolean>;
  remove(item: T): Promise<void>;
}

export class Standby<T extends object> {
  private next: Promise<T> | undefined;
  private readonly removing = new Set<Promise<void>>();
  private readonly retired = new WeakSet<object>();
  private closed = false;

  constructor(private readonly lifecycle: StandbyLifecycle<T>) {}

  /**
   * A started one: the one kept ready when it started and is alive, else one started now
   * (whose failure is thrown); then the next one starts in the background.
   */
  async take(): Promise<T> {
    const ready =
      this.next &&
      (await this.next.then(
        (item) => item,
        (err: unknown) => {
          log("environment", `the ${this.lifecycle.what} kept ready did not start (${(err as Error).message}); starting one now`);
          return undefined;
        },
      ));
    this.next = undefined;
    let item = ready;
    if (item !== undefined && !(await this.lifecycle.alive(item))) {
      log("environment", `the ${this.lifecycle.what} kept ready is no longer running; starting one now`);
      this.retire(item);
      item = undefined;
    }
    item ??= await this.lifecycle.start();
    if (!this.closed) {
      this.next = this.lifecycle.start();
      this.next.catch(() => undefined); // reported by the take() that gets it
    }
    return item;
  }

  /** Removes `item` in the background (once, however often it is retired); close() waits for it. */
  retire(item: T): void {
    if (this.retired.has(item)) return;
    this.retired.add(item);
    const removal: Promise<void> = this.lifecycle
      .remove(item)
      .catch((err: unknown) => log("cleanup", `removing a ${this.lifecycle.what} reported: ${(err as Error).message}`))
      .finally(() => this.removing.delete(removal));
    this.removing.add(removal);
  }

  /** Removes the one kept ready and waits until every retired one is removed. */
  async close(): Promise<void> {
    this.closed = true;
    const next = this.next;
    this.next = undefined;
    const item = await next?.catch(() => undefined);
    if (item !== undefined) this.retire(item);
    await Promise.all([...this.removing]);
  }
}

/** Containers kept ready: alive while the engine says they run, removed without a grace period. */
export function containerStandby<T extends { readonly container: StartedTestContainer }>(what: string, start: () => Promise<T>): Standby<T> {
  return new Standby<T>({
    what,
    start,
    alive: async (item) => (await containerFate(item.container.getId())).running,
    remove: async (item) => {
      await item.container.stop({ timeout: 0 });
    },
  });
}
