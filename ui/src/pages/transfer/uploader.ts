// One upload, straight from the browser to storage, the way the SDK does it
// (client/_uploads.py): start the upload (the server plans the parts), compute each part's
// CRC32, get presigned URLs for a batch of parts in one request (signed with those CRC32s, so
// storage refuses bytes that changed on the way), PUT the parts a few at a time, then
// complete (the server verifies every part and creates the dataset). Parts storage already
// holds (an earlier try, before a page reload) are never sent again. Like the SDK, files that
// a dataset of the type already holds (same names, sizes and CRC32s) are not sent again: that
// dataset is the answer, unless the user asks for a duplicate.
import { api, ApiError, unwrap, type Schemas } from "../../api/client";
import type { PickedFile } from "./collect";
import { blobCrc32, fileCrc32, partRanges, type PartRange } from "./parts";
import { ResumeStore, type ResumeRecord } from "./resume";

type UploadPublic = Schemas["UploadPublic"];
type DatasetPublic = Schemas["DatasetPublic"];

export const PARALLEL_PARTS = 4;
const FIRST_BATCH = PARALLEL_PARTS; // small, so the first bytes go out at once
const BATCH = 32; // later batches: fewer signing requests
const LOOKAHEAD = 2 * PARALLEL_PARTS; // parts signed ahead of the senders
const RETRIES = 4;

export type UploadSpec = {
  tenant: string;
  name: string;
  dataType: string;
  properties: Record<string, unknown>;
  tags: string[];
  files: PickedFile[];
  folder: boolean;
  /** Upload even when a dataset of the type already holds the same files. */
  duplicate?: boolean;
};

export type UploadListener = {
  /** Bytes of `path` stored or on their way, in all. */
  progress(path: string, bytes: number): void;
  /** The server accepted the upload (new or continued): its id and plan. */
  started?(upload: UploadPublic, resumed: boolean): void;
  /** Parts storage already held when the upload (re)started. */
  skipped?(parts: number, bytes: number): void;
  /** A part PUT (counted by tests of resuming through the page's state). */
  sent?(path: string, partNumber: number): void;
  phase?(phase: "checking" | "uploading" | "completing"): void;
  /** A dataset of the type already holds these files: nothing was sent, it is the answer. */
  alreadyThere?(dataset: DatasetPublic): void;
};

export class UploadCancelled extends Error {
  constructor() {
    super("The upload was stopped.");
    this.name = "UploadCancelled";
  }
}

type Job = { fileId: string; local: PickedFile; range: PartRange; crc32?: string; url?: string; headers?: Record<string, string> };

function uploadsPath(tenant: string) {
  return { params: { path: { tenant } } };
}

/** Upload `spec` as one new dataset, or continue `resume` (an upload of the same files
 * started before). Resolves to the dataset; rejects with an ApiError or UploadCancelled. */
export async function runUpload(
  spec: UploadSpec,
  listener: UploadListener,
  signal: AbortSignal,
  store: ResumeStore,
  resume?: ResumeRecord,
): Promise<DatasetPublic> {
  listener.phase?.("checking");
  let upload = resume ? await reopen(spec.tenant, resume.uploadId, store) : null;
  if (upload && "short_id" in upload) return upload; // it had completed: the dataset
  const resumed = upload !== null;
  if (!upload && !spec.duplicate) {
    const existing = await findUploaded(spec, signal);
    if (existing) {
      listener.alreadyThere?.(existing);
      return existing;
    }
  }
  if (!upload) {
    upload = await unwrap(
      api.POST("/api/v1/tenants/{tenant}/uploads", {
        ...uploadsPath(spec.tenant),
        body: {
          name: spec.name,
          data_type: spec.dataType,
          properties: spec.properties,
          tags: spec.tags,
          files: spec.files.map((f) => ({ name: f.path, size: f.file.size })),
        },
      }),
    );
    store.save({
      uploadId: upload.id,
      tenant: spec.tenant,
      name: spec.name,
      dataType: spec.dataType,
      partSize: upload.part_size,
      files: spec.files.map((f) => ({ path: f.path, size: f.file.size, lastModified: f.file.lastModified })),
      done: {},
      crc32: {},
      folder: spec.folder,
      startedAt: Date.now(),
      updatedAt: Date.now(),
    });
  }
  const open = upload as UploadPublic;
  listener.started?.(open, resumed);
  const known = store.get(open.id)?.crc32 ?? resume?.crc32 ?? {};
  const { todo, stored } = plan(open, spec.files);
  let skippedBytes = 0;
  for (const s of stored) skippedBytes += s.range.length;
  const storedBytes = new Map<string, number>();
  for (const s of stored) storedBytes.set(s.local.path, (storedBytes.get(s.local.path) ?? 0) + s.range.length);
  for (const f of spec.files) listener.progress(f.path, storedBytes.get(f.path) ?? 0);
  if (resumed) listener.skipped?.(stored.length, skippedBytes);

  listener.phase?.("uploading");
  const crc32: Record<string, Record<string, string>> = {};
  await sendAll(spec.tenant, open, todo, listener, signal, store, storedBytes, crc32);

  // The server records each file's CRC32, composed from all of its parts' CRC32s: parts sent
  // by an earlier page are known from the resume record, from storage, or read again here.
  listener.phase?.("completing");
  const reported = new Map<string, string>();
  for (const f of open.files) for (const p of f.parts ?? []) if (p.crc32) reported.set(`${f.id}:${p.part_number}`, p.crc32);
  for (const s of stored) {
    check(signal);
    const value =
      reported.get(`${s.fileId}:${s.range.partNumber}`) ??
      known[s.local.path]?.[s.range.partNumber] ??
      (await blobCrc32(s.local.file.slice(s.range.offset, s.range.offset + s.range.length)));
    (crc32[s.fileId] ??= {})[String(s.range.partNumber)] = value;
  }
  check(signal);
  const dataset = await unwrap(
    api.POST("/api/v1/tenants/{tenant}/uploads/{upload_id}/complete", {
      params: { path: { tenant: spec.tenant, upload_id: open.id } },
      body: { crc32 },
    }),
  );
  store.forget(open.id);
  return dataset;
}

/** The dataset of the spec's type (not archived) that already holds exactly these files:
 * the same names, sizes and CRC32s (the SDK's `find_uploaded`). Reads every file once. */
export async function findUploaded(spec: UploadSpec, signal?: AbortSignal): Promise<DatasetPublic | null> {
  if (spec.files.length === 0) return null;
  const sums: string[] = [];
  for (const f of spec.files) {
    if (signal) check(signal);
    sums.push(await fileCrc32(f.file));
  }
  const key = (name: string, size: number | null | undefined, sum: string | null | undefined) => `${name}\u0000${size ?? ""}\u0000${sum ?? ""}`;
  const wanted = spec.files.map((f, i) => key(f.path, f.file.size, sums[i])).sort();
  // Candidates share the largest file's checksum (an index lookup on the server).
  let largest = 0;
  spec.files.forEach((f, i) => {
    if (f.file.size > spec.files[largest].file.size) largest = i;
  });
  let cursor: string | undefined;
  do {
    const page = await unwrap(
      api.GET("/api/v1/tenants/{tenant}/datasets", {
        params: { path: { tenant: spec.tenant }, query: { type: spec.dataType, checksum: [sums[largest]], limit: 100, cursor } },
      }),
    );
    for (const found of page.items) {
      const have = found.files.map((f) => key(f.name, f.size, f.checksum)).sort();
      if (have.length === wanted.length && have.every((h, i) => h === wanted[i])) return found;
    }
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return null;
}

/** The upload again after a reload: open (continue it), completed (its dataset), or gone. */
async function reopen(tenant: string, uploadId: string, store: ResumeStore): Promise<UploadPublic | DatasetPublic | null> {
  try {
    const upload = await unwrap(
      api.GET("/api/v1/tenants/{tenant}/uploads/{upload_id}", { params: { path: { tenant, upload_id: uploadId } } }),
    );
    if (upload.status === "open") return upload;
    if (upload.status === "completed" && upload.dataset_id) {
      store.forget(uploadId);
      return await unwrap(
        api.GET("/api/v1/tenants/{tenant}/datasets/{dataset}", { params: { path: { tenant, dataset: upload.dataset_id } } }),
      );
    }
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  store.forget(uploadId); // aborted or unknown: start afresh
  return null;
}

/** (parts to send, parts storage holds) of an upload, matched to the local files. */
export function plan(upload: UploadPublic, files: PickedFile[]): { todo: Job[]; stored: Job[] } {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const todo: Job[] = [];
  const stored: Job[] = [];
  for (const file of upload.files) {
    const local = byPath.get(file.name);
    if (!local || local.file.size !== file.size) {
      throw new Error(`${file.name} is not the file this upload started with (missing, or its size changed). Discard the upload and start again.`);
    }
    const have = new Set((file.parts ?? []).map((p) => p.part_number));
    for (const range of partRanges(file.size, upload.part_size)) {
      const job = { fileId: file.id, local, range };
      (file.done || have.has(range.partNumber) ? stored : todo).push(job);
    }
  }
  return { todo, stored };
}

function check(signal: AbortSignal): void {
  if (signal.aborted) throw new UploadCancelled();
}

/** Checksums and signs parts in batches while PARALLEL_PARTS senders PUT them. */
async function sendAll(
  tenant: string,
  upload: UploadPublic,
  todo: Job[],
  listener: UploadListener,
  signal: AbortSignal,
  store: ResumeStore,
  storedBytes: Map<string, number>,
  crc32: Record<string, Record<string, string>>,
): Promise<void> {
  if (todo.length === 0) return;
  const ready: Job[] = [];
  let producing = true;
  let failure: unknown = null;
  // Producer and senders wait for a change (a part ready, room ahead, the end, a failure).
  let waiting: Array<() => void> = [];
  const notify = () => {
    const wake = waiting;
    waiting = [];
    for (const w of wake) w();
  };
  const waitForChange = () => new Promise<void>((resolve) => waiting.push(resolve));
  const inFlight = new Map<string, number>(); // bytes sent so far of parts on their way
  const report = (path: string) => {
    let bytes = storedBytes.get(path) ?? 0;
    for (const [key, n] of inFlight) if (key.startsWith(`${path}\u0000`)) bytes += n;
    listener.progress(path, bytes);
  };

  const producer = (async () => {
    try {
      let i = 0;
      let size = FIRST_BATCH;
      while (i < todo.length) {
        while (ready.length >= LOOKAHEAD && !failure) await waitForChange();
        if (failure) return;
        check(signal);
        const batch = todo.slice(i, i + size);
        i += batch.length;
        size = BATCH;
        for (const job of batch) {
          check(signal);
          job.crc32 = await blobCrc32(slice(job));
        }
        const signed = await unwrap(
          api.POST("/api/v1/tenants/{tenant}/uploads/{upload_id}/part-urls", {
            params: { path: { tenant, upload_id: upload.id } },
            body: { parts: batch.map((j) => ({ file_id: j.fileId, part_number: j.range.partNumber, crc32: j.crc32 })) },
          }),
        );
        const urls = new Map(signed.parts.map((p) => [`${p.file_id}:${p.part_number}`, p]));
        for (const job of batch) {
          const part = urls.get(`${job.fileId}:${job.range.partNumber}`);
          if (!part) throw new Error(`the server signed no URL for part ${job.range.partNumber} of ${job.local.path}`);
          job.url = part.url;
          job.headers = part.headers;
          ready.push(job);
        }
        notify();
      }
    } catch (e) {
      failure ??= e;
    } finally {
      producing = false;
      notify();
    }
  })();

  const sender = async () => {
    for (;;) {
      while (ready.length === 0 && producing && !failure) await waitForChange();
      if (failure) return;
      const job = ready.shift();
      if (!job) return;
      notify(); // room for the producer
      const key = `${job.local.path}\u0000${job.range.partNumber}`;
      try {
        await putPart(job, signal, (loaded) => {
          inFlight.set(key, loaded);
          report(job.local.path);
        });
        listener.sent?.(job.local.path, job.range.partNumber);
        inFlight.delete(key);
        storedBytes.set(job.local.path, (storedBytes.get(job.local.path) ?? 0) + job.range.length);
        report(job.local.path);
        (crc32[job.fileId] ??= {})[String(job.range.partNumber)] = job.crc32 as string;
        store.partDone(upload.id, job.local.path, job.range.partNumber, job.crc32 as string);
      } catch (e) {
        inFlight.delete(key);
        report(job.local.path);
        failure ??= e;
        notify();
        return;
      }
    }
  };
  // Wake everyone waiting when the user stops the upload.
  const onAbort = () => {
    failure ??= new UploadCancelled();
    notify();
  };
  signal.addEventListener("abort", onAbort);
  try {
    await Promise.all([producer, ...Array.from({ length: PARALLEL_PARTS }, sender)]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (failure) throw failure;
}

function slice(job: Job): Blob {
  return job.local.file.slice(job.range.offset, job.range.offset + job.range.length);
}

type PutAnswer = { status: number; body: string };

/** PUT one part, retrying what may pass on a second try (network, 5xx, throttling). */
async function putPart(job: Job, signal: AbortSignal, onProgress: (loaded: number) => void): Promise<void> {
  let delay = 500;
  for (let attempt = 1; ; attempt++) {
    check(signal);
    const answer = await put(job.url as string, job.headers ?? {}, slice(job), signal, onProgress);
    if (answer.status >= 200 && answer.status < 300) return;
    // A create-only single PUT refused because the object exists: an earlier try was stored
    // (its answer lost). The server's completion checks size and CRC32 regardless.
    if (answer.status === 412 && job.headers?.["If-None-Match"] === "*") return;
    const retryable = answer.status === 0 || answer.status === 429 || answer.status >= 500;
    if (!retryable || attempt >= RETRIES) throw storageError(job, answer);
    onProgress(0);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
}

function storageError(job: Job, answer: PutAnswer): Error {
  const where = `${job.local.path} (part ${job.range.partNumber})`;
  if (answer.status === 0) {
    return new Error(`${where}: storage cannot be reached. Check your connection (or the bucket's CORS rules) and continue the upload.`);
  }
  if (answer.status === 400 && /BadDigest|checksum_mismatch/.test(answer.body)) {
    return new Error(`${where}: storage refused the part's checksum. Was the file changed while it was uploading?`);
  }
  if (answer.status === 403 && /expired/i.test(answer.body)) {
    return new Error(`${where}: the upload link expired. Continue the upload to get new links.`);
  }
  return new Error(`${where}: storage refused the part (HTTP ${answer.status}).`);
}

/** XMLHttpRequest rather than fetch: it reports upload progress within a part. Presigned URLs
 * carry their own authorization: no cookies, no Mantle credentials go to storage. */
function put(url: string, headers: Record<string, string>, body: Blob, signal: AbortSignal, onProgress: (loaded: number) => void): Promise<PutAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText });
    xhr.onerror = () => resolve({ status: 0, body: "" });
    xhr.ontimeout = () => resolve({ status: 0, body: "" });
    const abort = () => {
      xhr.abort();
      reject(new UploadCancelled());
    };
    xhr.onabort = () => reject(new UploadCancelled());
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    xhr.onloadend = () => signal.removeEventListener("abort", abort);
    xhr.send(body);
  });
}

/** Discard an upload: storage drops its parts, no dataset is made. */
export async function discardUpload(tenant: string, uploadId: string, store: ResumeStore): Promise<void> {
  try {
    await unwrap(api.DELETE("/api/v1/tenants/{tenant}/uploads/{upload_id}", { params: { path: { tenant, upload_id: uploadId } } }));
  } catch (e) {
    // Gone already, or completed/aborted (409): nothing left to discard.
    if (!(e instanceof ApiError && (e.status === 404 || e.status === 409))) throw e;
  }
  store.forget(uploadId);
}
