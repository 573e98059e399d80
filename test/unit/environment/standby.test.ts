import { describe, expect, it } from "vitest";
import { Standby } from "../../../harness/environment/standby.ts";

interface Item {
  readonly n: number;
  dead?: boolean;
}

/** A lifecycle whose starts resolve when released, recording what happened. */
function lifecycle(opts: { failStarts?: number[] } = {}) {
  const events: string[] = [];
  let started = 0;
  const pending: Array<() => void> = [];
  return {
    events,
    /** Lets every start begun so far finish. */
    release: () => {
      for (const resolve of pending.splice(0)) resolve();
    },
    lifecycle: {
      what: "thing",
      start: async (): Promise<Item> => {
        const n = ++started;
        events.push(`start ${n}`);
        await new Promise<void>((resolve) => pending.push(resolve));
        if (opts.failStarts?.includes(n)) throw new Error(`start ${n} failed`);
        events.push(`ready ${n}`);
        return { n };
      },
      alive: async (item: Item) => !item.dead,
      remove: async (item: Item) => {
        events.push(`remove ${item.n}`);
      },
    },
  };
}

/** Lets a standby's start run to its await, then releases it. */
async function settle(fake: { release: () => void }): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    fake.release();
  }
}

describe("Standby", () => {
  it("hands out the one kept ready and starts the next in the background", async () => {
    const fake = lifecycle();
    const standby = new Standby(fake.lifecycle);
    const first = standby.take();
    await settle(fake);
    expect((await first).n).toBe(1);
    // The second is already starting before anyone asks for it.
    expect(fake.events).toContain("start 2");
    await settle(fake);
    expect(fake.events).toContain("ready 2");
    const second = await standby.take();
    expect(second.n).toBe(2);
    expect(fake.events).toContain("start 3");
    await settle(fake);
    await standby.close();
    expect(fake.events.filter((e) => e.startsWith("remove"))).toEqual(["remove 3"]);
  });

  it("starts one now when the one kept ready failed to start, and throws only if that fails too", async () => {
    const fake = lifecycle({ failStarts: [2, 3, 4] });
    const standby = new Standby(fake.lifecycle);
    const first = standby.take();
    await settle(fake);
    expect((await first).n).toBe(1);
    await settle(fake); // start 2 fails in the background
    const second = standby.take().catch((err: unknown) => err);
    await settle(fake); // start 3 (now) fails
    expect(await second).toEqual(new Error("start 3 failed"));
    expect(fake.events).not.toContain("start 4");
    await standby.close();
  });

  it("does not hand out one that died while kept ready: it is removed and another started", async () => {
    const fake = lifecycle();
    const items: Item[] = [];
    const standby = new Standby({
      ...fake.lifecycle,
      start: async () => {
        const item = await fake.lifecycle.start();
        items.push(item);
        return item;
      },
    });
    const first = standby.take();
    await settle(fake);
    await first;
    await settle(fake);
    items[1]!.dead = true; // item 2 dies while waiting
    const next = standby.take();
    await settle(fake);
    expect((await next).n).toBe(3);
    await settle(fake);
    await standby.close();
    expect(fake.events.filter((e) => e.startsWith("remove")).sort()).toEqual(["remove 2", "remove 4"]);
  });

  it("removes a retired one once, however often it is retired, and close() waits for the removals", async () => {
    const fake = lifecycle();
    let removals = 0;
    const unfinished: Array<() => void> = [];
    const standby = new Standby({
      ...fake.lifecycle,
      remove: async (item: Item) => {
        removals++;
        await new Promise<void>((r) => unfinished.push(r));
        await fake.lifecycle.remove(item);
      },
    });
    const first = standby.take();
    await settle(fake);
    const item = await first;
    standby.retire(item);
    standby.retire(item);
    expect(removals).toBe(1);
    let closed = false;
    const closing = standby.close().then(() => {
      closed = true;
    });
    await settle(fake);
    expect(closed).toBe(false);
    expect(removals).toBe(2); // the one kept ready too
    for (const finish of unfinished.splice(0)) finish();
    await closing;
    expect(closed).toBe(true);
    expect(fake.events.filter((e) => e.startsWith("remove")).sort()).toEqual(["remove 1", "remove 2"]);
  });

  it("starts nothing in the background once closed", async () => {
    const fake = lifecycle();
    const standby = new Standby(fake.lifecycle);
    await standby.close();
    const taken = standby.take();
    await settle(fake);
    expect((await taken).n).toBe(1);
    expect(fake.events).not.toContain("start 2");
  });
});
