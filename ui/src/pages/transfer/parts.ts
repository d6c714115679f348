// How files are cut into parts, the way the server plans them (catalog/uploads.py): one part
// size per upload, at least 8 MiB and large enough that the largest file needs at most 10,000
// parts (S3's limit); a file that fits in one part is a single PUT. The server's answer
// (`part_size`, each file's `part_count`) is what an upload uses; this mirror lets the page
// say what an upload will look like before it starts, and cuts files into byte ranges.
import CRC32 from "crc-32";

export const MiB = 1024 * 1024;
export const MIN_PART_SIZE = 8 * MiB;
export const MAX_PARTS = 10_000;

export type PartRange = { partNumber: number; offset: number; length: number };

/** The part size the server picks for an upload whose largest file is `largest` bytes. */
export function planPartSize(largest: number): number {
  const needed = Math.ceil(largest / MAX_PARTS);
  return Math.max(MIN_PART_SIZE, Math.ceil(needed / MiB) * MiB);
}

/** Parts of a file of `size` bytes (at least one, also for an empty file). */
export function partCount(size: number, partSize: number): number {
  return Math.max(1, Math.ceil(size / partSize));
}

/** Every part's byte range: all `partSize` long but the last. */
export function partRanges(size: number, partSize: number): PartRange[] {
  const count = partCount(size, partSize);
  const ranges: PartRange[] = [];
  for (let n = 1; n <= count; n++) {
    const offset = (n - 1) * partSize;
    ranges.push({ partNumber: n, offset, length: Math.min(partSize, size - offset) });
  }
  return ranges;
}

/** A CRC32 as S3 spells it (`x-amz-checksum-crc32`): base64 of the big-endian 4 bytes. */
export function crc32Base64(data: Uint8Array): string {
  return base64OfCrc(CRC32.buf(data));
}

function base64OfCrc(signed: number): string {
  const value = signed >>> 0; // crc-32 answers a signed 32-bit number
  const bytes = [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
  return btoa(String.fromCharCode(...bytes));
}

/** A whole file's CRC32 as dataset files record it (`crc32:<base64>`, like the SDK's
 * `file_crc32`), read `chunk` bytes at a time so a large file never sits in memory. */
export async function fileCrc32(blob: Blob, chunk = 8 * MiB): Promise<string> {
  let crc = 0;
  for (let offset = 0; offset < blob.size; offset += chunk) {
    crc = CRC32.buf(new Uint8Array(await blob.slice(offset, offset + chunk).arrayBuffer()), crc);
  }
  return `crc32:${base64OfCrc(crc)}`;
}

/** The CRC32 of a part of a file (a Blob), read into memory once. */
export async function blobCrc32(blob: Blob): Promise<string> {
  return crc32Base64(new Uint8Array(await blob.arrayBuffer()));
}
