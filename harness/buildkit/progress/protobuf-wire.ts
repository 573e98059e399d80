/**
 * Just enough of the protobuf wire format to read BuildKit's StatusResponse: varints,
 * length-delimited fields and skipping the rest. Written by hand because the messages
 * come from one known schema (api/services/control/control.proto) and a generated
 * runtime would be the only protobuf dependency of the project.
 */

export type WireField =
  | { readonly field: number; readonly wireType: 0; readonly value: bigint }
  | { readonly field: number; readonly wireType: 1 | 5; readonly value: Uint8Array }
  | { readonly field: number; readonly wireType: 2; readonly value: Uint8Array };

export class WireFormatError extends Error {
  override name = "WireFormatError";
}

function readVarint(buf: Uint8Array, start: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = start; i < buf.length; i++) {
    const byte = buf[i]!;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value, next: i + 1 };
    shift += 7n;
    if (shift > 63n) throw new WireFormatError(`varint at byte ${start} is longer than 10 bytes`);
  }
  throw new WireFormatError(`varint at byte ${start} runs past the end of the message`);
}

/** The fields of one message, in wire order. Groups (wire types 3 and 4) are refused: proto3 has none. */
export function* readFields(buf: Uint8Array): Generator<WireField> {
  let pos = 0;
  while (pos < buf.length) {
    const key = readVarint(buf, pos);
    pos = key.next;
    const field = Number(key.value >> 3n);
    const wireType = Number(key.value & 7n);
    switch (wireType) {
      case 0: {
        const v = readVarint(buf, pos);
        pos = v.next;
        yield { field, wireType, value: v.value };
        break;
      }
      case 1:
      case 5: {
        const size = wireType === 1 ? 8 : 4;
        if (pos + size > buf.length) throw new WireFormatError(`field ${field} runs past the end of the message`);
        yield { field, wireType, value: buf.subarray(pos, pos + size) };
        pos += size;
        break;
      }
      case 2: {
        const len = readVarint(buf, pos);
        const end = len.next + Number(len.value);
        if (end > buf.length) throw new WireFormatError(`field ${field} declares ${len.value} bytes, more than the message has left`);
        yield { field, wireType, value: buf.subarray(len.next, end) };
        pos = end;
        break;
      }
      default:
        throw new WireFormatError(`field ${field} has wire type ${wireType}, which proto3 messages do not use`);
    }
  }
}

const utf8 = new TextDecoder("utf-8");

export function asString(f: WireField): string {
  if (f.wireType !== 2) throw new WireFormatError(`field ${f.field}: expected a string, got wire type ${f.wireType}`);
  return utf8.decode(f.value);
}

export function asBytes(f: WireField): Uint8Array {
  if (f.wireType !== 2) throw new WireFormatError(`field ${f.field}: expected bytes, got wire type ${f.wireType}`);
  return f.value;
}

/** int64/int32/bool as a varint; negative int64 values come back negative (two's complement). */
export function asInt(f: WireField): number {
  if (f.wireType !== 0) throw new WireFormatError(`field ${f.field}: expected a varint, got wire type ${f.wireType}`);
  return Number(BigInt.asIntN(64, f.value));
}

export function asBool(f: WireField): boolean {
  return asInt(f) !== 0;
}
