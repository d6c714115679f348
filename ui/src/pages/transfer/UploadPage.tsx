// Upload: drop files or folders (or pick them), choose the data type and properties, and the
// bytes go straight to storage in parallel parts (uploader.ts). An upload interrupted by a
// reload continues when the same files are picked again (resume.ts).
import { useQueryClient } from "@tanstack/react-query";
import { type ChangeEvent, type DragEvent, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "react-router-dom";
import type { Schemas } from "../../api/client";
import { Button, EmptyState, ErrorMessage, Field, Loading, Notice, Page, ProgressBar, Section, StatusBadge } from "../../components/ui";
import { useDataTypes } from "../../hooks/tenantLists";
import { formatBytes, formatDate, formatDuration, plural } from "../../format";
import { useMe, useTenant } from "../../session";
import { type Picked, type PickedFile, filesFromDrop, filesFromInput, mergePicked } from "./collect";
import { type DatasetPlan, fileProperties, planDatasets, readOf } from "./pairing";
import { partCount, planPartSize } from "./parts";
import { SpeedMeter, formatSpeed, overall, percent, secondsLeft } from "./progress";
import { PropertyFields, PropertyRows } from "./PropertyFields";
import { type RawValues, convertProperties, parseTags } from "./properties";
import { ResumeStore, type ResumeRecord, storedBytes } from "./resume";
import { UploadCancelled, type UploadSpec, discardUpload, runUpload } from "./uploader";
import "./transfer.css";

type DataType = Schemas["DataTypePublic"];
type DatasetPublic = Schemas["DatasetPublic"];

type ItemState = "waiting" | "checking" | "uploading" | "completing" | "done" | "failed" | "stopped";
type RunItem = {
  spec: UploadSpec;
  resume?: ResumeRecord;
  state: ItemState;
  uploadId?: string;
  dataset?: DatasetPublic;
  error?: unknown;
  skippedParts?: number;
  /** A dataset of the type already held these files: nothing was sent. */
  existing?: boolean;
};
type Run = { items: RunItem[]; active: boolean; outcome?: "done" | "paused" | "cancelled" | "failed" };

const EMPTY: Picked = { files: [], folders: [] };
const LISTED_FILES = 12;

function fingerprints(files: PickedFile[]) {
  return files.map((f) => ({ path: f.path, size: f.file.size, lastModified: f.file.lastModified }));
}

/** A type that fits what was dropped, until the user picks one: a folder -> directory, R1/R2
 * FASTQ files -> fastq_pair, other FASTQ -> fastq. */
function suggestedType(picked: Picked, types: DataType[]): string | null {
  const has = (name: string) => types.some((t) => t.name === name);
  if (picked.files.length === 0) return null;
  if (picked.folders.length > 0) return has("directory") ? "directory" : null;
  const fastq = picked.files.every((f) => /\.(fastq|fq)(\.gz|\.bz2|\.zst)?$/i.test(f.path));
  if (fastq && picked.files.every((f) => readOf(f.path)) && picked.files.length % 2 === 0 && has("fastq_pair")) return "fastq_pair";
  if (fastq && has("fastq")) return "fastq";
  return has("file") ? "file" : null;
}

export default function UploadPage() {
  const t = useTenant();
  const queryClient = useQueryClient();
  const me = useMe();
  // The signed-in user's own unfinished uploads (the Shell renders pages once `me` is known).
  const userId = me.data?.user.id ?? "";
  const store = useMemo(() => new ResumeStore(userId, userId ? undefined : null), [userId]);
  const [unfinished, setUnfinished] = useState<ResumeRecord[]>(() => store.list(t.slug));
  const refreshUnfinished = () => setUnfinished(store.list(t.slug));
  useEffect(() => setUnfinished(store.list(t.slug)), [store, t.slug]);

  const types = useDataTypes();

  const [picked, setPicked] = useState<Picked>(EMPTY);
  const [chosenType, setChosenType] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [raw, setRaw] = useState<RawValues>({});
  const [extra, setExtra] = useState<Array<[string, string]>>([]);
  const [tags, setTags] = useState("");
  const [duplicate, setDuplicate] = useState(false);
  const [formErrors, setFormErrors] = useState<Record<string, string>>({});
  const [pickError, setPickError] = useState<string | null>(null);
  const [run, setRun] = useState<Run | null>(null);

  const typeList = types.data ?? [];
  const typeName = chosenType ?? suggestedType(picked, typeList) ?? "file";
  const dataType = typeList.find((d) => d.name === typeName);
  const converted = convertProperties(dataType?.properties ?? [], raw, extra);
  const plan: DatasetPlan | null = dataType && picked.files.length > 0 ? planDatasets(picked, dataType, converted.values, name) : null;
  const resumable = picked.files.length > 0 ? store.match(t.slug, fingerprints(picked.files)) : undefined;

  function addFiles(more: Picked) {
    setPickError(null);
    if (more.files.length === 0) {
      setPickError("Nothing to upload there: the folders are empty.");
      return;
    }
    setRun((current) => (current?.active ? current : null));
    setPicked((current) => mergePicked(current, more));
  }

  // --- running uploads -----------------------------------------------------------------
  const controller = useRef<AbortController | null>(null);
  const done = useRef(new Map<string, number>());
  const skipped = useRef(0);
  const meter = useRef(new SpeedMeter());
  const [, setTick] = useState(0);
  const running = run?.active ?? false;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => {
      const total = [...done.current.values()].reduce((a, b) => a + b, 0);
      meter.current.sample(total - skipped.current, performance.now());
      setTick((n) => n + 1);
    }, 300);
    return () => clearInterval(timer);
  }, [running]);
  // Leaving the page mid-upload: the browser asks first (the upload can continue later).
  useEffect(() => {
    if (!running) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [running]);

  function update(index: number, change: Partial<RunItem>) {
    setRun((current) => {
      if (!current) return current;
      const items = current.items.map((item, i) => (i === index ? { ...item, ...change } : item));
      return { ...current, items };
    });
  }

  async function start(items: RunItem[]) {
    const abort = new AbortController();
    controller.current = abort;
    done.current = new Map(items.flatMap((item) => item.spec.files.map((f) => [f.path, 0] as [string, number])));
    skipped.current = 0;
    meter.current.reset();
    meter.current.sample(0, performance.now());
    setRun({ items, active: true });
    let outcome: Run["outcome"] = "done";
    const started: Array<string | undefined> = items.map(() => undefined);
    for (const [index, item] of items.entries()) {
      if (abort.signal.aborted) break;
      try {
        const dataset = await runUpload(
          item.spec,
          {
            progress: (path, bytes) => done.current.set(path, bytes),
            started: (upload) => {
              started[index] = upload.id;
              update(index, { uploadId: upload.id });
            },
            skipped: (parts, bytes) => {
              skipped.current += bytes;
              update(index, { skippedParts: parts });
            },
            phase: (phase) => update(index, { state: phase }),
            alreadyThere: () => update(index, { existing: true }),
          },
          abort.signal,
          store,
          item.resume,
        );
        for (const f of item.spec.files) done.current.set(f.path, f.file.size);
        started[index] = undefined;
        update(index, { state: "done", dataset });
      } catch (e) {
        if (e instanceof UploadCancelled || abort.signal.aborted) {
          update(index, { state: "stopped" });
          outcome = abort.signal.reason === "cancel" ? "cancelled" : "paused";
          break;
        }
        update(index, { state: "failed", error: e });
        outcome = "failed";
      }
    }
    if (outcome === "cancelled") {
      // Discard what was started: storage drops the parts, no dataset is made.
      const open = started.filter((id): id is string => id !== undefined);
      await Promise.allSettled(open.map((id) => discardUpload(t.slug, id, store)));
    }
    setRun((current) => (current ? { ...current, active: false, outcome } : current));
    refreshUnfinished();
    void queryClient.invalidateQueries({ queryKey: ["datasets"] });
  }

  function startNew() {
    if (!dataType || !plan) return;
    if (plan.kind === "error") return;
    const errors = { ...converted.errors };
    const automatic = plan.kind === "samples" ? Object.keys(plan.datasets[0]?.properties ?? {}) : [];
    for (const def of dataType.properties) {
      if (def.required && converted.values[def.name] === undefined && !automatic.includes(def.name)) errors[def.name] = "required";
    }
    setFormErrors(errors);
    if (Object.keys(errors).length > 0) return;
    const folder = picked.folders.length > 0;
    const items: RunItem[] = plan.datasets.map((d) => ({
      state: "waiting",
      spec: {
        tenant: t.slug,
        name: d.name,
        dataType: dataType.name,
        properties: { ...converted.values, ...d.properties },
        tags: parseTags(tags),
        files: d.files,
        folder,
        duplicate,
      },
    }));
    void start(items);
  }

  function continueUpload(record: ResumeRecord, files: PickedFile[]) {
    const byKey = new Map(files.map((f) => [`${f.path}\u0000${f.file.size}\u0000${f.file.lastModified}`, f]));
    const mine = record.files.map((f) => byKey.get(`${f.path}\u0000${f.size}\u0000${f.lastModified}`));
    if (mine.some((f) => !f)) {
      const wanted = record.files.slice(0, 3).map((f) => `${f.path} (${formatBytes(f.size)})`).join(", ");
      setPickError(`These are not the files of the upload “${record.name}”: it needs ${wanted}${record.files.length > 3 ? " …" : ""}, unchanged since it started.`);
      return;
    }
    setPickError(null);
    setPicked({ files: mine as PickedFile[], folders: record.folder ? [record.files[0].path.split("/")[0]] : [] });
    void start([
      {
        state: "waiting",
        resume: record,
        spec: {
          tenant: t.slug,
          name: record.name,
          dataType: record.dataType,
          properties: {},
          tags: [],
          files: mine as PickedFile[],
          folder: record.folder,
        },
      },
    ]);
  }

  function stop(reason: "pause" | "cancel") {
    controller.current?.abort(reason);
  }

  function reset() {
    setRun(null);
    setPicked(EMPTY);
    setName("");
    setRaw({});
    setExtra([]);
    setTags("");
    setFormErrors({});
  }

  // --- page ------------------------------------------------------------------------------
  if (!t.can("write")) {
    return (
      <Page title="Upload">
        <Notice kind="warning">Your role in this tenant can read data but not add it. Ask an administrator to make you a member.</Notice>
      </Page>
    );
  }
  return (
    <Page title="Upload" subtitle="Files go straight to storage in parallel parts. An interrupted upload continues where it stopped when you pick the same files again.">
      <UnfinishedUploads
        records={unfinished}
        busy={running}
        onContinue={continueUpload}
        onDiscard={async (record) => {
          await discardUpload(t.slug, record.uploadId, store);
          refreshUnfinished();
        }}
      />
      {run ? (
        <RunView
          run={run}
          done={done.current}
          speed={meter.current.speed()}
          onPause={() => stop("pause")}
          onCancel={() => stop("cancel")}
          onAgain={reset}
          href={t.href}
        />
      ) : (
        <>
          <Section title="1. Files" testId="upload-files">
            <DropZone onFiles={addFiles} onError={setPickError} />
            {pickError && <ErrorMessage error={new Error(pickError)} />}
            {picked.files.length > 0 && <PickedList picked={picked} onClear={() => setPicked(EMPTY)} />}
            {resumable && (
              <div className="alert alert-info transfer-resume" role="status">
                <span>
                  These files continue the unfinished upload <strong>{resumable.name}</strong> ({resumable.dataType}): {formatBytes(storedBytes(resumable).done)} of{" "}
                  {formatBytes(storedBytes(resumable).total)} already sent.
                </span>
                <Button variant="primary" onClick={() => continueUpload(resumable, picked.files)}>
                  Continue upload
                </Button>
              </div>
            )}
          </Section>
          <Section title="2. Dataset" testId="upload-dataset">
            {types.isPending ? (
              <Loading label="Loading data types…" />
            ) : types.error ? (
              <ErrorMessage error={types.error} title="Data types" />
            ) : (
              <div className="transfer-form">
                <Field label="Data type" hint={dataType?.description}>
                  <select
                    value={typeName}
                    onChange={(e) => {
                      setChosenType(e.target.value);
                      setRaw({});
                      setFormErrors({});
                    }}
                  >
                    {typeList.map((d) => (
                      <option key={d.name} value={d.name}>
                        {d.name}
                      </option>
                    ))}
                  </select>
                </Field>
                {plan?.kind !== "samples" || plan.datasets.length === 1 ? (
                  <Field label="Dataset name" hint="Default: the folder's or the file's name.">
                    <input type="text" value={name} placeholder={plan && plan.kind !== "error" ? plan.datasets[0]?.name : ""} onChange={(e) => setName(e.target.value)} />
                  </Field>
                ) : (
                  <p className="muted">Each dataset is named after its sample.</p>
                )}
                {dataType && (
                  <PropertyFields
                    defs={dataType.properties}
                    values={raw}
                    errors={formErrors}
                    files={picked.files.map((f) => f.path)}
                    automatic={automaticHints(dataType, picked)}
                    onChange={(key, value) => setRaw((current) => ({ ...current, [key]: value }))}
                  />
                )}
                {dataType?.additional_properties && <PropertyRows legend="Other properties" valuePlaceholder="value" rows={extra} onChange={setExtra} />}
                <Field label="Tags" hint="Separate tags with commas.">
                  <input type="text" value={tags} onChange={(e) => setTags(e.target.value)} />
                </Field>
              </div>
            )}
          </Section>
          <Section title="3. Upload" testId="upload-plan">
            {picked.files.length === 0 ? (
              <p className="muted">Add files or a folder above; the datasets they make show here.</p>
            ) : plan?.kind === "error" ? (
              <ErrorMessage error={new Error(plan.message)} />
            ) : plan ? (
              <PlanSummary plan={plan} />
            ) : null}
            <label className="row">
              <input type="checkbox" checked={duplicate} onChange={(e) => setDuplicate(e.target.checked)} />
              Upload again even if a dataset already holds the same files
            </label>
            <div className="row">
              <Button variant="primary" disabled={!plan || plan.kind === "error"} onClick={startNew}>
                {plan && plan.kind !== "error" && plan.datasets.length > 1 ? `Upload ${plan.datasets.length} datasets` : "Upload"}
              </Button>
            </div>
          </Section>
        </>
      )}
    </Page>
  );
}

/** What the page fills by itself when a field is left empty (as `mantle upload` does). */
function automaticHints(type: DataType, picked: Picked): Record<string, string> {
  const files = fileProperties(type);
  if (files.length === 0 || files.length > 2 || picked.folders.length > 0) return {};
  const hints: Record<string, string> = {};
  for (const f of files) hints[f] = "Left empty: matched from the file names.";
  if (type.properties.some((p) => p.name === "sample")) hints.sample = "Left empty: taken from the file names.";
  return hints;
}

function DropZone(props: { onFiles: (picked: Picked) => void; onError: (message: string) => void }) {
  const [over, setOver] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const onPicked = (e: ChangeEvent<HTMLInputElement>) => {
    if (e.target.files) props.onFiles(filesFromInput(e.target.files));
    e.target.value = ""; // the same files picked again are a change too
  };
  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    filesFromDrop(e.dataTransfer).then(props.onFiles, () => props.onError("The dropped items could not be read. Try the buttons instead."));
  };
  return (
    <div
      className={`transfer-drop${over ? " transfer-drop-over" : ""}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <p className="transfer-drop-title">Drop files or folders here</p>
      <p className="muted">A folder keeps its structure: its name is the first part of each file's path.</p>
      <div className="row transfer-drop-buttons">
        <Button onClick={() => filesInput.current?.click()}>Choose files…</Button>
        <Button onClick={() => folderInput.current?.click()}>Choose a folder…</Button>
      </div>
      <input
        ref={filesInput}
        type="file"
        multiple
        className="visually-hidden"
        aria-label="Files to upload"
        data-testid="files-input"
        tabIndex={-1}
        onChange={onPicked}
      />
      <input
        ref={(el) => {
          folderInput.current = el;
          el?.setAttribute("webkitdirectory", "");
        }}
        type="file"
        className="visually-hidden"
        aria-label="Folder to upload"
        data-testid="folder-input"
        tabIndex={-1}
        onChange={onPicked}
      />
    </div>
  );
}

function PickedList({ picked, onClear }: { picked: Picked; onClear: () => void }) {
  const [all, setAll] = useState(false);
  const total = picked.files.reduce((n, f) => n + f.file.size, 0);
  const largest = Math.max(...picked.files.map((f) => f.file.size));
  const parts = picked.files.reduce((n, f) => n + partCount(f.file.size, planPartSize(largest)), 0);
  const shown = all ? picked.files : picked.files.slice(0, LISTED_FILES);
  return (
    <div className="transfer-picked" data-testid="picked-files">
      <div className="row transfer-picked-head">
        <strong>
          {plural(picked.files.length, "file")} · {formatBytes(total)}
        </strong>
        <span className="muted">
          {plural(parts, "part")} of up to {formatBytes(planPartSize(largest))}
        </span>
        <Button variant="ghost" onClick={onClear}>
          Clear
        </Button>
      </div>
      <ul className="transfer-filelist">
        {shown.map((f) => (
          <li key={f.path}>
            <span className="mono">{f.path}</span>
            <span className="muted">{formatBytes(f.file.size)}</span>
          </li>
        ))}
      </ul>
      {picked.files.length > LISTED_FILES && (
        <Button variant="ghost" onClick={() => setAll(!all)}>
          {all ? "Show fewer" : `Show all ${picked.files.length} files`}
        </Button>
      )}
    </div>
  );
}

function PlanSummary({ plan }: { plan: Exclude<DatasetPlan, { kind: "error" }> }) {
  return (
    <div className="stack" data-testid="upload-summary">
      <p>
        {plan.datasets.length === 1 ? (
          <>
            One dataset, <strong>{plan.datasets[0].name}</strong>, with {plural(plan.datasets[0].files.length, "file")}.
          </>
        ) : (
          <>{plural(plan.datasets.length, "dataset")}, one per sample:</>
        )}
      </p>
      {plan.datasets.length > 1 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Dataset</th>
                <th>Files</th>
                <th>Size</th>
              </tr>
            </thead>
            <tbody>
              {plan.datasets.map((d) => (
                <tr key={d.name}>
                  <td>{d.name}</td>
                  <td className="mono">{d.files.map((f) => f.path).join(", ")}</td>
                  <td>{formatBytes(d.files.reduce((n, f) => n + f.file.size, 0))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function UnfinishedUploads(props: {
  records: ResumeRecord[];
  busy: boolean;
  onContinue: (record: ResumeRecord, files: PickedFile[]) => void;
  onDiscard: (record: ResumeRecord) => Promise<void>;
}) {
  const [error, setError] = useState<unknown>(null);
  if (props.records.length === 0) return null;
  return (
    <Section title="Unfinished uploads" testId="unfinished-uploads">
      <p className="muted">Pick the same files again (here, or by dropping them below) to continue; the parts already sent are not sent again.</p>
      <ErrorMessage error={error} />
      <ul className="transfer-unfinished">
        {props.records.map((record) => {
          const bytes = storedBytes(record);
          return (
            <li key={record.uploadId}>
              <div className="transfer-unfinished-what">
                <strong>{record.name}</strong> <span className="muted">({record.dataType})</span>
                <div className="muted">
                  {plural(record.files.length, "file")} · {formatBytes(bytes.done)} of {formatBytes(bytes.total)} sent · started {formatDate(new Date(record.startedAt).toISOString())}
                </div>
                <ProgressBar value={bytes.done} max={bytes.total} label={`${record.name}: sent so far`} />
              </div>
              <div className="row">
                <label className={`btn btn-primary${props.busy ? " transfer-disabled" : ""}`}>
                  {record.folder ? "Choose the folder…" : "Choose the files…"}
                  <input
                    type="file"
                    multiple
                    disabled={props.busy}
                    className="visually-hidden"
                    data-testid="continue-input"
                    ref={(el) => {
                      if (el && record.folder) el.setAttribute("webkitdirectory", "");
                    }}
                    onChange={(e) => {
                      if (e.target.files) props.onContinue(record, filesFromInput(e.target.files).files);
                      e.target.value = "";
                    }}
                  />
                </label>
                <Button
                  variant="danger"
                  disabled={props.busy}
                  onClick={() => {
                    setError(null);
                    props.onDiscard(record).catch(setError);
                  }}
                >
                  Discard
                </Button>
              </div>
            </li>
          );
        })}
      </ul>
    </Section>
  );
}

const STATE_LABEL: Record<ItemState, string> = {
  waiting: "queued",
  checking: "preparing",
  uploading: "running",
  completing: "running",
  done: "completed",
  failed: "failed",
  stopped: "cancelled",
};

/** "DS-000001 name, DS-000002 name", each a link to its dataset. */
function DatasetLinks({ items, href }: { items: RunItem[]; href: (path: string) => string }) {
  return items.map((i, n) => (
    <span key={i.dataset?.id}>
      {n > 0 && ", "}
      <Link to={href(`/datasets/${i.dataset?.id}`)}>
        {i.dataset?.short_id} {i.dataset?.name}
      </Link>
    </span>
  ));
}

function RunView(props: {
  run: Run;
  done: Map<string, number>;
  speed: number | null;
  onPause: () => void;
  onCancel: () => void;
  onAgain: () => void;
  href: (path?: string) => string;
}) {
  const { run } = props;
  const files = run.items.flatMap((item) => item.spec.files.map((f) => ({ total: f.file.size, done: props.done.get(f.path) ?? 0 })));
  const all = overall(files);
  const left = secondsLeft(all.total - all.done, props.speed);
  const created = run.items.filter((i) => i.dataset && !i.existing);
  const existing = run.items.filter((i) => i.dataset && i.existing);
  return (
    <Section
      title={run.active ? "Uploading" : run.outcome === "done" ? "Upload complete" : "Upload stopped"}
      testId="upload-run"
      actions={
        run.active ? (
          <div className="row">
            <Button onClick={props.onPause}>Pause</Button>
            <Button variant="danger" onClick={props.onCancel}>
              Cancel
            </Button>
          </div>
        ) : (
          <Button variant="primary" onClick={props.onAgain}>
            Upload more
          </Button>
        )
      }
    >
      <div className="transfer-overall" data-testid="upload-overall">
        <ProgressBar value={all.done} max={all.total} label="Upload progress, all files" />
        <div className="row transfer-stats">
          <strong>{percent(all).toFixed(0)} %</strong>
          <span>
            {formatBytes(all.done)} of {formatBytes(all.total)}
          </span>
          {run.active && (
            <>
              <span>{formatSpeed(props.speed, formatBytes)}</span>
              <span>{left === null ? "estimating time left…" : `${formatDuration(Math.max(1, left))} left`}</span>
            </>
          )}
        </div>
      </div>
      {run.outcome === "paused" && <Notice kind="warning">Paused. The upload is listed under “Unfinished uploads”: pick the same files again to continue.</Notice>}
      {run.outcome === "cancelled" && <Notice kind="warning">Cancelled. What was sent has been discarded; no dataset was made.</Notice>}
      {created.length > 0 && !run.active && (
        <Notice kind="success">
          Created {plural(created.length, "dataset")}:{" "}
          <DatasetLinks items={created} href={props.href} />
        </Notice>
      )}
      {existing.length > 0 && !run.active && (
        <Notice kind="info">
          Already in Mantle, not sent again (the same names, sizes and checksums):{" "}
          <DatasetLinks items={existing} href={props.href} />
          . To make another dataset of them, tick “Upload again” and upload.
        </Notice>
      )}
      <ul className="transfer-items">
        {run.items.map((item, index) => {
          const itemFiles = item.spec.files.map((f) => ({ path: f.path, total: f.file.size, done: props.done.get(f.path) ?? 0 }));
          const sum = overall(itemFiles);
          return (
            <li key={index} className="transfer-item" data-testid="upload-item">
              <div className="row transfer-item-head">
                <strong>{item.dataset ? <Link to={props.href(`/datasets/${item.dataset.id}`)}>{item.dataset.name}</Link> : item.spec.name}</strong>
                <span className="muted">{item.spec.dataType}</span>
                <StatusBadge status={STATE_LABEL[item.state]} />
                {item.dataset && <span className="mono">{item.dataset.short_id}</span>}
                <span className="muted transfer-item-bytes">
                  {formatBytes(sum.done)} of {formatBytes(sum.total)}
                </span>
              </div>
              {item.resume && item.skippedParts !== undefined && (
                <p className="muted">Continued: {plural(item.skippedParts, "part")} already in storage, not sent again.</p>
              )}
              {item.error !== undefined && <ErrorMessage error={item.error} />}
              <ul className="transfer-files">
                {itemFiles.slice(0, 50).map((f) => (
                  <li key={f.path}>
                    <span className="mono transfer-file-name">{f.path}</span>
                    <ProgressBar value={f.done} max={f.total} label={`${f.path} progress`} />
                    <span className="muted transfer-file-pct">{percent(f).toFixed(0)} %</span>
                  </li>
                ))}
              </ul>
              {itemFiles.length > 50 && <p className="muted">and {plural(itemFiles.length - 50, "more file")}</p>}
            </li>
          );
        })}
      </ul>
      {run.items.length === 0 && <EmptyState title="Nothing to upload" />}
    </Section>
  );
}
