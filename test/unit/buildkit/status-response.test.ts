/**
 * The protobuf reader and the StatusResponse decoder on messages encoded here by hand from
 * control.proto's field numbers, so every expected value is one the test chose.
 */
import { describe, expect, it } from "vitest";
import { readFields, WireFormatError } from "../../../harness/buildkit/progress/protobuf-wire.ts";
import { decodeStatusResponse, decodeTimestamp } from "../../../harness/buildkit/progress/status-response.ts";

function varint(n: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const key = (field: number, wireType: number) => varint((field << 3) | wireType);
const int = (field: number, n: number | bigint) => [...key(field, 0), ...varint(n)];
const bytes = (field: number, b: number[] | Uint8Array) => [...key(field, 2), ...varint(b.length), ...b];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, "utf8")]);
const msg = (field: number, ...parts: number[][]) => bytes(field, parts.flat());
const timestamp = (field: number, seconds: number, nanos: number) => msg(field, int(1, seconds), nanos ? int(2, nanos) : []);
const u8 = (...parts: number[][]) => Uint8Array.from(parts.flat());

describe("protobuf wire reader", () => {
  it("reads the protobuf documentation's example: field 1 = varint 150 is 08 96 01", () => {
    expect([...readFields(Uint8Array.from([0x08, 0x96, 0x01]))]).toEqual([{ field: 1, wireType: 0, value: 150n }]);
  });

  it("reads length-delimited, fixed64 and fixed32 fields and keeps their order", () => {
    const buf = u8(str(3, "abc"), [...key(4, 1), 1, 2, 3, 4, 5, 6, 7, 8], [...key(5, 5), 9, 9, 9, 9], int(1, 0));
    const fields = [...readFields(buf)].map((f) => [f.field, f.wireType]);
    expect(fields).toEqual([
      [3, 2],
      [4, 1],
      [5, 5],
      [1, 0],
    ]);
  });

  it("refuses a length that runs past the message, a truncated varint and group wire types", () => {
    expect(() => [...readFields(Uint8Array.from([0x0a, 0x05, 0x61]))]).toThrow(WireFormatError);
    expect(() => [...readFields(Uint8Array.from([0x08, 0x96]))]).toThrow(WireFormatError);
    expect(() => [...readFields(Uint8Array.from([0x0b]))]).toThrow(/wire type 3/);
  });
});

describe("decodeTimestamp", () => {
  it("writes RFC 3339 in UTC with the nanoseconds Go would print", () => {
    expect(decodeTimestamp(u8(int(1, 1_700_000_000), int(2, 123_456_789)))).toBe("2023-11-14T22:13:20.123456789Z");
    expect(decodeTimestamp(u8(int(1, 1_700_000_000), int(2, 500_000_000)))).toBe("2023-11-14T22:13:20.5Z");
    expect(decodeTimestamp(u8(int(1, 0)))).toBe("1970-01-01T00:00:00Z");
  });
});

describe("decodeStatusResponse", () => {
  const d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  const d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

  it("decodes vertexes with every field control.proto gives them", () => {
    const vertex = msg(
      1,
      str(1, d2),
      str(2, d1),
      str(2, d1.replace(/1/g, "3")),
      str(3, "[stage-1 2/3] COPY --link a /a"),
      int(4, 1),
      timestamp(5, 1_700_000_000, 1),
      timestamp(6, 1_700_000_001, 0),
      str(7, "boom"),
      msg(8, str(1, "group-1"), str(2, "[stage-1 2/3] COPY --link a /a"), int(3, 1)),
    );
    expect(decodeStatusResponse(u8(vertex))).toEqual({
      vertexes: [
        {
          digest: d2,
          inputs: [d1, d1.replace(/1/g, "3")],
          name: "[stage-1 2/3] COPY --link a /a",
          cached: true,
          started: "2023-11-14T22:13:20.000000001Z",
          completed: "2023-11-14T22:13:21Z",
          error: "boom",
          progressGroup: { id: "group-1", name: "[stage-1 2/3] COPY --link a /a", weak: true },
        },
      ],
    });
  });

  it("decodes statuses, logs (as base64, like Go's JSON of []byte) and warnings", () => {
    const status = msg(2, str(1, "extracting sha256:ab"), str(2, d1), str(3, "extracting"), int(4, 10), int(5, 20), timestamp(6, 1, 0));
    const logLine = msg(3, str(1, d1), timestamp(2, 2, 0), int(3, 2), bytes(4, [...Buffer.from("hello\n")]));
    const warning = msg(4, str(1, d1), int(2, 1), bytes(3, [...Buffer.from("short")]), bytes(4, [...Buffer.from("detail")]), str(5, "https://example"));
    expect(decodeStatusResponse(u8(status, logLine, warning))).toEqual({
      statuses: [{ id: "extracting sha256:ab", vertex: d1, name: "extracting", current: 10, total: 20, timestamp: "1970-01-01T00:00:01Z" }],
      logs: [{ vertex: d1, timestamp: "1970-01-01T00:00:02Z", stream: 2, data: Buffer.from("hello\n").toString("base64") }],
      warnings: [
        { vertex: d1, level: 1, short: Buffer.from("short").toString("base64"), detail: [Buffer.from("detail").toString("base64")], url: "https://example" },
      ],
    });
  });

  it("skips fields it does not know (a newer BuildKit's additions) and leaves absent lists out", () => {
    const vertex = msg(1, str(1, d1), str(99, "future"), int(100, 7));
    expect(decodeStatusResponse(u8(vertex, str(42, "also future")))).toEqual({ vertexes: [{ digest: d1 }] });
    expect(decodeStatusResponse(new Uint8Array())).toEqual({});
  });
});
