/**
 * The strict tar reader for untrusted image archives, on tars written by GNU tar and by
 * the harness's writer (accepted), and on hostile ones written byte by byte (refused,
 * with the member's name in the message and nothing of its content).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { HarnessError } from "../../../harness/errors.ts";
import { archiveLimits } from "../../../harness/oci/archive/limits.ts";
import { readTarMembers } from "../../../harness/oci/archive/tar-reader.ts";
import { writeDeterministicTar } from "../../../harness/oci/deterministic-tar.ts";
import { paxBody, rawHeader, rawTar } from "./raw-tar.ts";

const limits = archiveLimits();
const read = (tar: Buffer, overrides = {}) => readTarMembers(tar, "hostile.tar", archiveLimits(overrides));

function refusal(tar: Buffer, overrides = {}): HarnessError {
  try {
    read(tar, overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe("IMAGE_ARCHIVE_INVALID");
    expect((err as HarnessError).message.startsWith("hostile.tar")).toBe(true);
    expect((err as HarnessError).hint).toBeTruthy();
    return err as HarnessError;
  }
  throw new Error("the tar was accepted");
}

describe("readTarMembers accepts", () => {
  it("a tar written by GNU tar, padded to its 10 KiB record, with a PAX long name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gnu-tar-"));
    try {
      const long = "n".repeat(150);
      writeFileSync(join(dir, "a.txt"), "a\n");
      writeFileSync(join(dir, long), "long\n");
      const out = join(dir, "out.tar");
      await execa("tar", ["--format=posix", "-cf", out, "-C", dir, "a.txt", long]);
      const { readFileSync } = await import("node:fs");
      const tar = readFileSync(out);
      expect(tar.length % 10240).toBe(0); // GNU tar's record padding is present
      const members = read(tar);
      expect(members.map((m) => [m.name, m.bytes.toString()])).toEqual([
        ["a.txt", "a\n"],
        [long, "long\n"],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the harness writer's output, directories included, names normalised", () => {
    const tar = writeDeterministicTar([
      { type: "directory", path: "blobs", mode: 0o755 },
      { type: "file", path: "./blobs/x", mode: 0o644, content: "x" },
    ]);
    expect(read(tar).map((m) => [m.name, m.type])).toEqual([
      ["blobs", "directory"],
      ["blobs/x", "file"],
    ]);
  });

  it("a harmless global PAX header (git archive writes one)", () => {
    const tar = rawTar([
      { name: "pax_global_header", typeflag: "g", content: paxBody({ comment: "0123abc" }) },
      { name: "a", content: "x" },
    ]);
    expect(read(tar).map((m) => m.name)).toEqual(["a"]);
  });

  it("a GNU long-name member and a PAX header", () => {
    const name = `dir/${"l".repeat(120)}`;
    const tar = rawTar([
      { name: "././@LongLink", typeflag: "L", content: `${name}\0` },
      { name: "truncated", content: "gnu" },
      { name: "PaxHeaders/x", typeflag: "x", content: paxBody({ path: "pax/name.txt" }) },
      { name: "ignored", content: "pax" },
    ]);
    expect(read(tar).map((m) => [m.name, m.bytes.toString()])).toEqual([
      [name, "gnu"],
      ["pax/name.txt", "pax"],
    ]);
  });
});

describe("readTarMembers refuses", () => {
  const cases: Array<[string, Buffer, RegExp, object?]> = [
    ["an absolute name", rawTar([{ name: "/etc/passwd", content: "x" }]), /"\/etc\/passwd": is an absolute name/],
    ["a .. component", rawTar([{ name: "blobs/../../x", content: "x" }]), /"blobs\/..\/..\/x": contains a ".." component/],
    [
      "a PAX path that escapes",
      rawTar([
        { name: "p", typeflag: "x", content: paxBody({ path: "../../etc/cron.d/x" }) },
        { name: "ok", content: "x" },
      ]),
      /contains a ".." component/,
    ],
    ["a backslash", rawTar([{ name: "a\\..\\b", content: "x" }]), /a control character or a backslash/],
    ["a control character", rawTar([{ name: "a\u001b[2Jb", content: "x" }]), /"a\\u001b\[2Jb": contains a control character/],
    ["a symbolic link", rawTar([{ name: "blobs", typeflag: "2", linkname: "/etc" }]), /"blobs": is a symbolic link/],
    [
      "a hard link",
      rawTar([
        { name: "a", content: "x" },
        { name: "b", typeflag: "1", linkname: "/etc/shadow" },
      ]),
      /"b": is a hard link/,
    ],
    ["a character device", rawTar([{ name: "dev/null", typeflag: "3" }]), /is a character device/],
    ["a FIFO", rawTar([{ name: "index.json", typeflag: "6" }]), /"index.json": is a FIFO/],
    ["an unknown type", rawTar([{ name: "x", typeflag: "Z" }]), /a member of unknown type "Z"/],
    [
      "a duplicate file",
      rawTar([
        { name: "index.json", content: "a" },
        { name: "./index.json", content: "b" },
      ]),
      /"\.\/index.json": appears twice/,
    ],
    [
      "a file inside a file",
      rawTar([
        { name: "blobs", content: "a" },
        { name: "blobs/sha256/x", content: "b" },
      ]),
      /is inside "blobs", which is a file/,
    ],
    [
      "a file over a directory's content",
      rawTar([
        { name: "a/b", content: "a" },
        { name: "a", content: "b" },
      ]),
      /"a": is a file, but earlier members are inside it/,
    ],
    ["a tar cut inside a member", rawTar([{ name: "big", content: "x", declaredSize: 4096 }], { end: "none" }), /"big": the tar ends inside this member/],
    ["a tar cut at a header boundary", rawTar([{ name: "a", content: "x" }], { end: "none" }), /without an end-of-archive marker: it is truncated/],
    ["a single zero block", rawTar([{ name: "a", content: "x" }], { end: "one" }), /is not followed by a second one/],
    [
      "data hidden after the end marker",
      rawTar([{ name: "a", content: "x" }], { trailing: rawHeader({ name: "hidden" }, 0) }),
      /non-zero data follows the end-of-archive marker/,
    ],
    ["a bad checksum", rawTar([{ name: "a", content: "x", badChecksum: true }]), /fails its checksum/],
    ["something that is not a tar", Buffer.from('{"not": "a tar"}'), /shorter than one tar header: it is not a tar/],
    ["more members than allowed", rawTar([{ name: "a" }, { name: "b" }, { name: "c" }]), /more than 2 members/, { maxEntries: 2 }],
    [
      "a member larger than allowed",
      rawTar([{ name: "blob", content: Buffer.alloc(2000) }]),
      /"blob": is 2000 bytes, more than the 1000 bytes allowed for one file/,
      { maxBlobBytes: 1000 },
    ],
    [
      "an oversized PAX header",
      rawTar([{ name: "p", typeflag: "x", content: Buffer.alloc(70 * 1024, 0x41) }]),
      /an extended header at byte 0 is 71680 bytes \(at most 65536 bytes\)/,
    ],
    [
      "a global PAX header that renames what follows",
      rawTar([
        { name: "g", typeflag: "g", content: paxBody({ path: "index.json" }) },
        { name: "a", content: "x" },
      ]),
      /the global PAX header at byte 0 sets path/,
    ],
    ["a malformed PAX record", rawTar([{ name: "p", typeflag: "x", content: "99 path=x\n" }, { name: "a" }]), /malformed record/],
  ];
  it.each(cases)("%s", (_what, tar, message, overrides) => {
    expect(refusal(tar, overrides).message).toMatch(message);
  });

  it("never quotes member contents", () => {
    const secret = "root:$6$secret-hash:19000:0:99999:7:::";
    const tar = rawTar([{ name: "shadow", content: secret, declaredSize: 4096 }], { end: "none" });
    const err = refusal(tar);
    expect(err.message).not.toContain("secret");
    expect(err.describe()).not.toContain("secret");
  });

  it("checks the size bound before reading a member, so a lying size cannot make it read far", () => {
    const header = rawHeader({ name: "huge" }, 2 ** 33);
    const tar = Buffer.concat([header, Buffer.alloc(1024)]);
    expect(refusal(tar).message).toMatch(/"huge": is 8192 MiB, more than the 128 MiB allowed/);
    expect(limits.maxBlobBytes).toBe(128 * 1024 * 1024);
  });
});
