// Resuming uploads after a page reload. The browser cannot reopen a file by itself, so the
// page remembers (in localStorage) each unfinished upload: its id, its files (path, size,
// last modified: a file picked again with the same three is taken as the same file) and the
// parts already sent with their CRC32s. When the user picks the same files again the upload
// continues; the server says which parts storage really holds (GET uploads/{id}).
//
// The records are the signed-in user's own (stored under a key naming the user, filtered by
// tenant): whoever signs in next on the same browser neither sees nor continues them. They
// hold no secrets: no presigned URL, no token, only names, sizes and checksums.

export type FileFingerprint = { path: string; size: number; lastModified: number };

export type ResumeRecord = {
  uploadId: string;
  tenant: string;
  name: string; // the dataset's name
  dataType: string;
  partSize: number;
  files: FileFingerprint[];
  /** Parts this browser saw stored, by file path. */
  done: Record<string, number[]>;
  /** CRC32 (base64) of each part sent, by file path and part number. */
  crc32: Record<string, Record<number, string>>;
  /** Whether the files came from a folder (the page offers a folder picker to continue). */
  folder: boolean;
  startedAt: number;
  updatedAt: number;
};

const KEY = "mantle.transfer.uploads";
/** Where one user's records are kept. */
export function storageKey(user: string): string {
  return `${KEY}:${user}`;
}

export function fileKey(f: FileFingerprint): string {
  return `${f.path}\u0000${f.size}\u0000${f.lastModified}`;
}

/** A user's unfinished uploads, kept in a Storage (localStorage; a fake one in tests). */
export class ResumeStore {
  private readonly key: string;

  constructor(
    user: string,
    private readonly storage: Storage | null = safeLocalStorage(),
  ) {
    this.key = storageKey(user);
    try {
      // Records of every user under one key (earlier builds): nobody's to read now.
      this.storage?.removeItem(KEY);
    } catch {
      /* storage refused: nothing was kept either */
    }
  }

  private readAll(): Record<string, ResumeRecord> {
    if (!this.storage) return {};
    try {
      const parsed = JSON.parse(this.storage.getItem(this.key) ?? "{}") as unknown;
      return parsed && typeof parsed === "object" ? (parsed as Record<string, ResumeRecord>) : {};
    } catch {
      return {}; // a damaged entry is forgotten rather than breaking the page
    }
  }

  private writeAll(records: Record<string, ResumeRecord>): void {
    if (!this.storage) return;
    try {
      this.storage.setItem(this.key, JSON.stringify(records));
    } catch {
      /* storage full or refused: resuming is a convenience, the upload goes on */
    }
  }

  /** The tenant's unfinished uploads, newest first. */
  list(tenant: string): ResumeRecord[] {
    return Object.values(this.readAll())
      .filter((r) => r.tenant === tenant)
      .sort((a, b) => b.startedAt - a.startedAt);
  }

  get(uploadId: string): ResumeRecord | undefined {
    return this.readAll()[uploadId];
  }

  save(record: ResumeRecord): void {
    const all = this.readAll();
    all[record.uploadId] = { ...record, updatedAt: Date.now() };
    this.writeAll(all);
  }

  /** Remember that a part of `path` is stored, with its CRC32. */
  partDone(uploadId: string, path: string, partNumber: number, crc32: string): void {
    const all = this.readAll();
    const record = all[uploadId];
    if (!record) return;
    const done = new Set(record.done[path] ?? []);
    done.add(partNumber);
    record.done[path] = [...done].sort((a, b) => a - b);
    record.crc32[path] = { ...(record.crc32[path] ?? {}), [partNumber]: crc32 };
    record.updatedAt = Date.now();
    this.writeAll(all);
  }

  forget(uploadId: string): void {
    const all = this.readAll();
    delete all[uploadId];
    this.writeAll(all);
  }

  /** The tenant's unfinished upload whose every file is among `files` (same path, size and
   * last modified), if any: picking those files again continues it. */
  match(tenant: string, files: FileFingerprint[]): ResumeRecord | undefined {
    const have = new Set(files.map(fileKey));
    return this.list(tenant).find((r) => r.files.length > 0 && r.files.every((f) => have.has(fileKey(f))));
  }
}

/** Bytes this browser knows to be stored for a record (for the list of unfinished uploads). */
export function storedBytes(record: ResumeRecord): { done: number; total: number } {
  let done = 0;
  let total = 0;
  for (const f of record.files) {
    total += f.size;
    const count = Math.max(1, Math.ceil(f.size / record.partSize));
    for (const n of record.done[f.path] ?? []) {
      done += n < count ? record.partSize : f.size - record.partSize * (count - 1);
    }
  }
  return { done, total };
}

function safeLocalStorage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}
