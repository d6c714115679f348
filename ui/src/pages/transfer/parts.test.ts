import { describe, expect, it } from "vitest";
import { MAX_PARTS, MiB, crc32Base64, fileCrc32, partCount, partRanges, planPartSize } from "./parts";

describe("part planning (mirrors catalog/uploads.py)", () => {
  it("uses 8 MiB parts until a file would need more than 10,000", () => {
    expect(planPartSize(0)).toBe(8 * MiB);
    expect(planPartSize(12 * MiB)).toBe(8 * MiB);
    expect(planPartSize(80_000 * MiB)).toBe(8 * MiB); // exactly 10,000 parts
    expect(planPartSize(80_000 * MiB + 1)).toBe(9 * MiB); // rounded up to whole MiB
  });

  it("never needs more than 10,000 parts, up to S3's 5 TiB", () => {
    const size = 5 * 1024 ** 4;
    const partSize = planPartSize(size);
    expect(partCount(size, partSize)).toBeLessThanOrEqual(MAX_PARTS);
    expect(partSize % MiB).toBe(0);
    expect(partSize).toBe(525 * MiB);
  });

  it("cuts a file into equal parts and a shorter last one", () => {
    const ranges = partRanges(20 * MiB + 5, 8 * MiB);
    expect(ranges).toEqual([
      { partNumber: 1, offset: 0, length: 8 * MiB },
      { partNumber: 2, offset: 8 * MiB, length: 8 * MiB },
      { partNumber: 3, offset: 16 * MiB, length: 4 * MiB + 5 },
    ]);
    expect(ranges.reduce((n, r) => n + r.length, 0)).toBe(20 * MiB + 5);
  });

  it("sends a small or empty file as one part", () => {
    expect(partCount(0, 8 * MiB)).toBe(1);
    expect(partRanges(0, 8 * MiB)).toEqual([{ partNumber: 1, offset: 0, length: 0 }]);
    expect(partRanges(8 * MiB, 8 * MiB)).toHaveLength(1);
  });
});

describe("CRC32 as S3's x-amz-checksum-crc32", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);
  it("is base64 of the big-endian value (the server's crc32_b64)", () => {
    // Values from Python: base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).
    expect(crc32Base64(bytes("hello world"))).toBe("DUoRhQ==");
    expect(crc32Base64(bytes("Hello world"))).toBe("i9aeUg==");
    expect(crc32Base64(new Uint8Array())).toBe("AAAAAA==");
  });

  it("handles CRCs with the top bit set (crc-32 answers them negative)", () => {
    const data = new Uint8Array(1024).map((_, i) => i % 256);
    expect(crc32Base64(data)).toBe("twtMJg=="); // 0xb70b4c26
  });
});

describe("fileCrc32", () => {
  it("reads a file in chunks to the same value as Python's zlib over all of it", async () => {
    const data = new Uint8Array(256_000).map((_, i) => i % 256);
    const blob = new Blob([data]);
    // base64.b64encode(zlib.crc32(bytes(range(256)) * 1000).to_bytes(4, "big"))
    expect(await fileCrc32(blob, 1000)).toBe("crc32:/HCvGg==");
    expect(await fileCrc32(blob)).toBe("crc32:/HCvGg==");
    expect(await fileCrc32(new Blob([]))).toBe("crc32:AAAAAA==");
  });
});
