import { describe, expect, it } from "vitest";
import { ResumeStore, type ResumeRecord, storedBytes } from "./resume";

class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(i: number) {
    return [...this.items.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const MiB = 1024 * 1024;

function record(overrides: Partial<ResumeRecord> = {}): ResumeRecord {
  return {
    uploadId: "u1",
    tenant: "acme",
    name: "run 7",
    dataType: "directory",
    partSize: 8 * MiB,
    files: [
      { path: "run7/big.bin", size: 20 * MiB, lastModified: 1000 },
      { path: "run7/small.txt", size: 10, lastModified: 2000 },
    ],
    done: {},
    crc32: {},
    folder: true,
    startedAt: 1,
    updatedAt: 1,
    ...overrides,
  };
}

describe("resume bookkeeping", () => {
  it("keeps the parts sent, and survives a new store (a page reload)", () => {
    const storage = new MemoryStorage();
    const store = new ResumeStore("user-1", storage);
    store.save(record());
    store.partDone("u1", "run7/big.bin", 2, "AAAAAA==");
    store.partDone("u1", "run7/big.bin", 1, "DUoRhQ==");
    store.partDone("u1", "run7/big.bin", 2, "AAAAAA=="); // reported twice: kept once
    const again = new ResumeStore("user-1", storage).get("u1");
    expect(again?.done["run7/big.bin"]).toEqual([1, 2]);
    expect(again?.crc32["run7/big.bin"]).toEqual({ 1: "DUoRhQ==", 2: "AAAAAA==" });
  });

  it("matches the same files picked again: path, size and last modified", () => {
    const store = new ResumeStore("user-1", new MemoryStorage());
    store.save(record());
    const same = record().files;
    expect(store.match("acme", same)?.uploadId).toBe("u1");
    expect(store.match("acme", [...same, { path: "run7/extra", size: 1, lastModified: 1 }])?.uploadId).toBe("u1");
    expect(store.match("other-tenant", same)).toBeUndefined();
    const touched = [same[0], { ...same[1], lastModified: 3000 }];
    expect(store.match("acme", touched)).toBeUndefined();
    expect(store.match("acme", [same[0]])).toBeUndefined(); // a file is missing
  });

  it("lists a tenant's unfinished uploads, newest first, and forgets them", () => {
    const store = new ResumeStore("user-1", new MemoryStorage());
    store.save(record({ uploadId: "old", startedAt: 1 }));
    store.save(record({ uploadId: "new", startedAt: 2 }));
    store.save(record({ uploadId: "elsewhere", tenant: "beta" }));
    expect(store.list("acme").map((r) => r.uploadId)).toEqual(["new", "old"]);
    store.forget("new");
    expect(store.list("acme").map((r) => r.uploadId)).toEqual(["old"]);
  });

  it("counts the bytes already sent, the last part shorter", () => {
    const r = record({ done: { "run7/big.bin": [1, 3], "run7/small.txt": [1] } });
    expect(storedBytes(r)).toEqual({ done: 8 * MiB + 4 * MiB + 10, total: 20 * MiB + 10 });
  });

  it("shrugs off damaged or missing storage", () => {
    const storage = new MemoryStorage();
    storage.setItem("mantle.transfer.uploads", "{not json");
    expect(new ResumeStore("user-1", storage).list("acme")).toEqual([]);
    const none = new ResumeStore("user-1", null);
    none.save(record());
    expect(none.list("acme")).toEqual([]);
  });

  it("keeps each user's uploads apart: another user signing in on this browser sees none", () => {
    const storage = new MemoryStorage();
    new ResumeStore("alice", storage).save(record({ uploadId: "alices" }));
    const bob = new ResumeStore("bob", storage);
    expect(bob.list("acme")).toEqual([]);
    expect(bob.get("alices")).toBeUndefined();
    expect(bob.match("acme", record().files)).toBeUndefined();
    expect(new ResumeStore("alice", storage).list("acme").map((r) => r.uploadId)).toEqual(["alices"]);
    // Nothing secret is kept: no URL, no token.
    expect(storage.getItem("mantle.transfer.uploads:alice")).not.toMatch(/https?:|X-Amz|token/i);
  });

  it("drops the records earlier builds kept for every user under one key", () => {
    const storage = new MemoryStorage();
    storage.setItem("mantle.transfer.uploads", JSON.stringify({ u1: record() }));
    expect(new ResumeStore("bob", storage).list("acme")).toEqual([]);
    expect(storage.getItem("mantle.transfer.uploads")).toBeNull();
  });
});
