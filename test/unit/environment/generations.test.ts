import { describe, expect, it } from "vitest";
import { BUILDKITD_GENERATIONS } from "../../../harness/environment/buildkitd-container.ts";
import { generationLog as sliceLog, untilAnswered } from "../../../harness/environment/generations.ts";

const generationLog = (log: string, generation: number) => sliceLog(BUILDKITD_GENERATIONS, log, generation);

const log = [
  "buildkit-repro: buildkitd generation 1 starting",
  "level=info msg=one",
  "buildkit-repro: buildkitd generation 1 replaced",
  "buildkit-repro: buildkitd generation 2 starting",
  "level=info msg=two",
  "SIGABRT: abort",
  "buildkit-repro: buildkitd generation 2 exited with status 2",
  "",
].join("\n");

describe("generationLog", () => {
  it("keeps what one generation wrote, up to the next one's start", () => {
    expect(generationLog(log, 1)).toBe(
      "buildkit-repro: buildkitd generation 1 starting\nlevel=info msg=one\nbuildkit-repro: buildkitd generation 1 replaced\n",
    );
    expect(generationLog(log, 2)).toBe(
      "buildkit-repro: buildkitd generation 2 starting\nlevel=info msg=two\nSIGABRT: abort\nbuildkit-repro: buildkitd generation 2 exited with status 2\n",
    );
  });

  it("tells generation 1 from 11 and 2 from 12", () => {
    const many = Array.from({ length: 12 }, (_, i) => `buildkit-repro: buildkitd generation ${i + 1} starting\nmsg=${i + 1}\n`).join("");
    expect(generationLog(many, 1)).toBe("buildkit-repro: buildkitd generation 1 starting\nmsg=1\n");
    expect(generationLog(many, 11)).toBe("buildkit-repro: buildkitd generation 11 starting\nmsg=11\n");
    expect(generationLog(many, 12)).toBe("buildkit-repro: buildkitd generation 12 starting\nmsg=12\n");
  });

  it("takes a log whose head was cut from its beginning", () => {
    const cut = "level=info msg=two\nbuildkit-repro: buildkitd generation 3 starting\nlevel=info msg=three\n";
    expect(generationLog(cut, 2)).toBe("level=info msg=two\n");
  });
});

describe("untilAnswered", () => {
  it("looks again until an answer, counting a throwing look as not yet", async () => {
    let looks = 0;
    const answer = await untilAnswered(
      async () => {
        looks++;
        if (looks === 1) throw new Error("connection refused");
        return looks < 3 ? { notYet: "still the old one" } : { answered: looks };
      },
      5_000,
      (last) => new Error(last),
    );
    expect(answer).toBe(3);
  });

  it("throws what timedOut makes of the last reason", async () => {
    await expect(
      untilAnswered(
        async () => ({ notYet: "the previous registry still answers" }),
        120,
        (last) => new Error(`gave up: ${last}`),
      ),
    ).rejects.toThrow("gave up: the previous registry still answers");
  });
});
