// Import: browse an environment's read buckets, write the patterns that pair objects into
// datasets with a live preview (the API's dry run, asked again as the user types), start the
// import and watch it (a background job on the server), and see the past imports.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, api, problemLines, type Schemas, unwrap } from "../../api/client";
import { DataTable, type ColumnDef } from "../../components/DataTable";
import { Button, EmptyState, ErrorMessage, Field, KeyValues, Loading, Notice, Page, Section, StatusBadge } from "../../components/ui";
import { useDataTypes, useEnvironments } from "../../hooks/tenantLists";
import { useDebounced } from "../../hooks/useDebounced";
import { formatBytes, formatDate, formatDuration, plural, secondsBetween } from "../../format";
import { useTenant } from "../../session";
import { type ImportForm, type PatternRow, buildSpec, defaultPatterns, localProblems, namedGroups, patternRoles } from "./importSpec";
import { parseTags } from "./properties";
import { PropertyRows } from "./PropertyFields";
import "./transfer.css";

type ImportPublic = Schemas["ImportPublic"];
type ImportPreview = Schemas["ImportPreview"];
type Environment = Schemas["EnvironmentPublic"];

const RUNNING = new Set(["queued", "running"]);
const PREVIEW_DELAY_MS = 400;

export default function ImportPage() {
  const t = useTenant();
  const environments = useEnvironments();
  const [environment, setEnvironment] = useState<string | null>(null);
  const [watching, setWatching] = useState<string | null>(null);

  const envs = environments.data ?? [];
  const env: Environment | undefined = envs.find((e) => e.name === environment) ?? envs.find((e) => e.is_default) ?? envs[0];

  return (
    <Page title="Import" subtitle="Register objects of your read buckets as datasets, in place: nothing is copied, and importing again makes no duplicates.">
      {environments.isPending ? (
        <Loading />
      ) : environments.error ? (
        <ErrorMessage error={environments.error} title="Environments" />
      ) : !env ? (
        <EmptyState
          title="No AWS environment yet"
          action={t.can("admin") ? <Link className="btn btn-primary" to={t.href("/environments")}>Add an environment</Link> : undefined}
        >
          Imports read the buckets of an environment. {t.can("admin") ? "Add one first." : "Ask an administrator to add one."}
        </EmptyState>
      ) : (
        <>
          {envs.length > 1 && (
            <div className="transfer-form">
              <Field label="Environment">
                <select value={env.name} onChange={(e) => setEnvironment(e.target.value)}>
                  {envs.map((e) => (
                    <option key={e.name} value={e.name}>
                      {e.name}
                      {e.is_default ? " (default)" : ""}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
          )}
          <ImportBuilder key={env.name} environment={env} onStarted={setWatching} />
        </>
      )}
      {watching && <ImportProgress id={watching} />}
      <PastImports onShow={setWatching} current={watching} />
    </Page>
  );
}

// --- browsing and writing the spec -----------------------------------------------------------

function ImportBuilder({ environment, onStarted }: { environment: Environment; onStarted: (id: string) => void }) {
  const t = useTenant();
  const queryClient = useQueryClient();
  const buckets = useQuery({
    queryKey: ["read-buckets", t.slug, environment.name],
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/read-buckets", { params: { path: { tenant: t.slug }, query: { environment: environment.name } } })),
  });
  const types = useDataTypes();
  const [bucket, setBucket] = useState<string | null>(null);
  const [prefix, setPrefix] = useState<string | null>(null);
  const [typeName, setTypeName] = useState("fastq_pair");
  const [patterns, setPatterns] = useState<PatternRow[] | null>(null);
  const [key, setKey] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [properties, setProperties] = useState<Array<[string, string]>>([]);
  const [tags, setTags] = useState("");

  const bucketList = buckets.data ?? [];
  const chosen = bucketList.find((b) => b.bucket === bucket) ?? bucketList[0];
  const typeList = types.data ?? [];
  const dataType = typeList.find((d) => d.name === typeName);
  const defaults = defaultPatterns(dataType);
  const form: ImportForm | null = chosen
    ? {
        environment: environment.name,
        bucket: chosen.bucket,
        prefix: prefix ?? chosen.prefix,
        dataType: typeName,
        patterns: patterns ?? defaults.patterns,
        key: key ?? defaults.key,
        name,
        properties,
        tags: parseTags(tags),
      }
    : null;
  const problems = form ? localProblems(form) : [];
  const spec = form && problems.length === 0 && dataType ? buildSpec(form) : null;
  const debounced = useDebounced(spec ? JSON.stringify(spec) : null, PREVIEW_DELAY_MS);
  const canWrite = t.can("write");
  const preview = useQuery({
    queryKey: ["import-preview", t.slug, debounced],
    enabled: debounced !== null && canWrite,
    queryFn: ({ signal }) =>
      unwrap(
        api.POST("/api/v1/tenants/{tenant}/imports/preview", {
          params: { path: { tenant: t.slug }, query: { limit: 100 } },
          body: JSON.parse(debounced as string),
          signal,
        }),
      ),
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 10_000,
  });
  const start = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/tenants/{tenant}/imports", { params: { path: { tenant: t.slug } }, body: spec as Schemas["ImportCreate"] })),
    onSuccess: (job) => {
      onStarted(job.id);
      void queryClient.invalidateQueries({ queryKey: ["imports", t.slug] });
    },
  });

  if (buckets.isPending || types.isPending) return <Loading />;
  if (buckets.error) return <ErrorMessage error={buckets.error} title="Read buckets" />;
  if (types.error) return <ErrorMessage error={types.error} title="Data types" />;
  if (!chosen || !form) {
    return (
      <EmptyState title={`Environment “${environment.name}” has no read buckets`}>
        {t.can("admin") ? "Add the buckets your instruments write to in the environment's settings." : "Ask an administrator to add the buckets your instruments write to."}
      </EmptyState>
    );
  }
  const groups = [...new Set(form.patterns.flatMap((r) => namedGroups(r.pattern)))];
  const stale = preview.isFetching || (spec !== null && debounced !== JSON.stringify(spec));

  return (
    <div className="import-layout">
      <Section title="1. Browse" testId="import-browse">
        {bucketList.length > 1 && (
          <Field label="Bucket">
            <select
              value={chosen.bucket}
              onChange={(e) => {
                setBucket(e.target.value);
                setPrefix(null);
              }}
            >
              {bucketList.map((b) => (
                <option key={b.bucket} value={b.bucket}>
                  {b.uri}
                </option>
              ))}
            </select>
          </Field>
        )}
        <BucketBrowser environment={environment.name} bucket={chosen.bucket} root={chosen.prefix} prefix={form.prefix} onPrefix={setPrefix} />
      </Section>
      <div className="stack">
        <Section title="2. Patterns" testId="import-patterns">
          {!canWrite && <Notice kind="warning">Your role can browse but not import. Ask an administrator to make you a member.</Notice>}
          <div className="grid-2 import-top">
            <Field label="Data type" hint={dataType?.description}>
              <select
                value={typeName}
                onChange={(e) => {
                  setTypeName(e.target.value);
                  setPatterns(null);
                  setKey(null);
                }}
              >
                {typeList.map((d) => (
                  <option key={d.name} value={d.name}>
                    {d.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Prefix" hint="Only keys below it; set it by browsing.">
              <input type="text" className="mono" value={form.prefix} onChange={(e) => setPrefix(e.target.value)} />
            </Field>
          </div>
          <PatternRows rows={form.patterns} roles={patternRoles(dataType)} onChange={setPatterns} />
          <p className="muted">
            Regular expressions (RE2: no backreferences or lookarounds) searched in each key below the prefix. Objects whose <code>{form.key || "key"}</code> group
            captures the same text make one dataset; other named groups fill properties of the same name.
          </p>
          <div className="grid-2">
            <Field label="Group that keys a dataset" hint={form.key ? `Named group; groups found: ${groups.join(", ") || "none"}.` : "Empty: one dataset per object."}>
              <input type="text" value={form.key} onChange={(e) => setKey(e.target.value)} />
            </Field>
            <Field label="Dataset name" hint={`Template, e.g. {${form.key || "sample"}}. Default: the key group.`}>
              <input type="text" value={name} placeholder={form.key ? `{${form.key}}` : "the object's key"} onChange={(e) => setName(e.target.value)} />
            </Field>
          </div>
          <PropertyRows
            legend="Properties"
            hint="Same for every dataset; may use groups, e.g. run = {run}."
            valuePlaceholder="value or {group}"
            rows={properties}
            onChange={setProperties}
          />
          <Field label="Tags" hint="Separate tags with commas.">
            <input type="text" value={tags} onChange={(e) => setTags(e.target.value)} />
          </Field>
        </Section>
        <Section
          title="3. Preview"
          testId="import-preview"
          actions={stale ? <span className="muted">updating…</span> : undefined}
        >
          {problems.length > 0 ? (
            <ErrorMessage error={new Error(problems.join(" "))} />
          ) : !canWrite ? (
            <p className="muted">Previews are for members who can import.</p>
          ) : preview.error ? (
            <ErrorMessage error={specError(preview.error)} title="These patterns cannot be used" />
          ) : preview.data ? (
            <div className={stale ? "preview-stale" : undefined}>
              <PreviewView preview={preview.data} prefix={form.prefix} />
            </div>
          ) : (
            <Loading label="Matching the patterns against the bucket…" />
          )}
          <ErrorMessage error={start.error ? specError(start.error) : null} title="The import did not start" />
          <div className="row import-actions">
            <Button
              variant="primary"
              busy={start.isPending}
              disabled={!spec || !canWrite || !!preview.error || !preview.data || preview.data.datasets.length === 0}
              onClick={() => start.mutate()}
            >
              Start import
            </Button>
            {preview.data && !preview.data.complete && <span className="muted">The preview looked at the first {preview.data.objects_scanned.toLocaleString("en-US")} objects; the import reads them all.</span>}
          </div>
        </Section>
      </div>
    </div>
  );
}

/** A refused spec in words, once: the API's 422 lists each problem (`patterns: Value error,
 * pattern 'read2': ...`); its message repeats the first. */
export function specError(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  const lines = problemLines(error.details).map((line) => line.replace(/^[\w.]*: /, "").replace(/^Value error, /, ""));
  return lines.length > 0 ? new Error(lines.join(" · ")) : error;
}

function BucketBrowser(props: { environment: string; bucket: string; root: string; prefix: string; onPrefix: (p: string) => void }) {
  const t = useTenant();
  // Browse where the prefix field points, up to its last '/'.
  const folder = props.prefix.slice(0, props.prefix.lastIndexOf("/") + 1);
  const at = folder.startsWith(props.root) ? folder : props.root;
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  useEffect(() => setCursors([null]), [at, props.bucket]);
  const cursor = cursors[cursors.length - 1];
  const listing = useQuery({
    queryKey: ["read-bucket-objects", t.slug, props.environment, props.bucket, at, cursor],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/read-buckets/{bucket}/objects", {
          params: { path: { tenant: t.slug, bucket: props.bucket }, query: { environment: props.environment, prefix: at, cursor } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const crumbs: Array<{ label: string; prefix: string }> = [{ label: props.bucket, prefix: props.root }];
  const below = at.slice(props.root.length).split("/").filter(Boolean);
  const rootParts = props.root.split("/").filter(Boolean);
  if (rootParts.length) crumbs[0].label = `${props.bucket}/${rootParts.join("/")}`;
  below.forEach((part, i) => crumbs.push({ label: part, prefix: props.root + below.slice(0, i + 1).join("/") + "/" }));
  const data = listing.data;
  return (
    <div>
      <nav className="crumbs" aria-label="Folder">
        {crumbs.map((c, i) => (
          <span key={c.prefix} className="row">
            {i > 0 && <span className="crumbs-sep">/</span>}
            {i === crumbs.length - 1 ? (
              <strong className="mono" aria-current="location">
                {c.label}
              </strong>
            ) : (
              <Button variant="ghost" className="mono" onClick={() => props.onPrefix(c.prefix)}>
                {c.label}
              </Button>
            )}
          </span>
        ))}
      </nav>
      {listing.error ? (
        <ErrorMessage error={listing.error} />
      ) : !data ? (
        <Loading />
      ) : data.folders.length === 0 && data.objects.length === 0 ? (
        <EmptyState title="This folder is empty" />
      ) : (
        <ul className="browser-list" data-testid="bucket-listing" aria-busy={listing.isFetching || undefined}>
          {data.folders.map((f) => (
            <li key={f}>
              <FolderIcon />
              <Button variant="ghost" className="browser-name mono" onClick={() => props.onPrefix(f)}>
                {f.slice(at.length)}
              </Button>
            </li>
          ))}
          {data.objects.map((o) => (
            <li key={o.key}>
              <FileIcon />
              <span className="browser-name mono">{o.key.slice(at.length)}</span>
              <span className="muted browser-size">{formatBytes(o.size)}</span>
              <span className="muted browser-size">{formatDate(o.last_modified)}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="row pager">
        <span className="muted">{data ? `${plural(data.folders.length, "folder")}, ${plural(data.objects.length, "object")}${cursors.length > 1 ? ` (page ${cursors.length})` : ""}` : ""}</span>
        <Button disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          ← Previous
        </Button>
        <Button disabled={!data?.next_cursor} onClick={() => data?.next_cursor && setCursors([...cursors, data.next_cursor])}>
          Next →
        </Button>
      </div>
    </div>
  );
}

function FolderIcon() {
  return (
    <svg className="browser-icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M1.5 3.5h4l1.5 1.5h7.5v8h-13z" fill="#e8c66a" stroke="#b8922e" />
    </svg>
  );
}

function FileIcon() {
  return (
    <svg className="browser-icon" viewBox="0 0 16 16" aria-hidden="true">
      <path d="M3.5 1.5h6l3 3v10h-9z" fill="#fff" stroke="#8a94a6" />
      <path d="M9.5 1.5v3h3" fill="none" stroke="#8a94a6" />
    </svg>
  );
}

function PatternRows({ rows, roles, onChange }: { rows: PatternRow[]; roles: string[]; onChange: (rows: PatternRow[]) => void }) {
  return (
    <fieldset className="transfer-extra">
      <legend>Key patterns</legend>
      {rows.map((row, i) => (
        <div className="pattern-row" key={i}>
          <select aria-label={`Pattern ${i + 1} fills`} value={row.role} onChange={(e) => onChange(rows.map((r, j) => (j === i ? { ...r, role: e.target.value } : r)))}>
            {[...new Set([...roles, row.role])].map((r) => (
              <option key={r} value={r}>
                {r === "files" ? "files (plain list)" : r}
              </option>
            ))}
          </select>
          <input
            type="text"
            aria-label={`Pattern for ${row.role}`}
            spellCheck={false}
            value={row.pattern}
            onChange={(e) => onChange(rows.map((r, j) => (j === i ? { ...r, pattern: e.target.value } : r)))}
          />
          <Button variant="ghost" aria-label={`Remove the pattern for ${row.role}`} disabled={rows.length <= 1} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            ✕
          </Button>
        </div>
      ))}
      <Button variant="ghost" onClick={() => onChange([...rows, { role: roles.find((r) => !rows.some((x) => x.role === r)) ?? "files", pattern: "" }])}>
        + Add a pattern
      </Button>
    </fieldset>
  );
}

function PreviewView({ preview, prefix }: { preview: ImportPreview; prefix: string }) {
  const fresh = preview.datasets.filter((d) => !d.exists && (d.problems ?? []).length === 0).length;
  const existing = preview.datasets.filter((d) => d.exists).length;
  const skipped = preview.datasets.filter((d) => (d.problems ?? []).length > 0).length;
  const unmatched = preview.unmatched ?? [];
  const strip = (key: string) => (key.startsWith(prefix) ? key.slice(prefix.length) : key);
  return (
    <div data-testid="preview-result">
      <div className="preview-stats">
        <span>
          <strong>{preview.objects_scanned.toLocaleString("en-US")}</strong> objects scanned
        </span>
        <span>
          <strong>{preview.objects_matched.toLocaleString("en-US")}</strong> matched
        </span>
        <span>
          <strong>{fresh}</strong> new datasets
        </span>
        {existing > 0 && (
          <span>
            <strong>{existing}</strong> already imported
          </span>
        )}
        {skipped > 0 && (
          <span className="field-error">
            <strong>{skipped}</strong> would be skipped
          </span>
        )}
      </div>
      {preview.datasets.length === 0 ? (
        <EmptyState title="No object matches these patterns">Compare the patterns with the keys on the left; each pattern is searched in the key below the prefix.</EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-label="Datasets the import would create" data-testid="preview-table">
            <thead>
              <tr>
                <th>Dataset</th>
                <th>Files</th>
                <th>Properties</th>
                <th>Outcome</th>
              </tr>
            </thead>
            <tbody>
              {preview.datasets.map((d) => (
                <tr key={d.key}>
                  <td>{d.name}</td>
                  <td>
                    <ul className="preview-files mono">
                      {d.files.map((f) => (
                        <li key={f}>{strip(f)}</li>
                      ))}
                    </ul>
                  </td>
                  <td>
                    {Object.entries(d.properties)
                      .filter(([, v]) => !(typeof v === "string" && v.startsWith("s3://")) && !Array.isArray(v))
                      .map(([k, v]) => `${k} = ${String(v)}`)
                      .join(", ") || <span className="muted">—</span>}
                  </td>
                  <td>{(d.problems ?? []).length > 0 ? <span className="field-error">skipped: {(d.problems ?? []).join("; ")}</span> : d.exists ? <span className="muted">already imported</span> : <span className="badge badge-success">new</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {unmatched.length > 0 && (
        <details className="unmatched-box">
          <summary>
            {preview.objects_scanned - preview.objects_matched > unmatched.length
              ? `${(preview.objects_scanned - preview.objects_matched).toLocaleString("en-US")} keys match no pattern; the first ${unmatched.length}:`
              : `${plural(unmatched.length, "key")} match${unmatched.length === 1 ? "es" : ""} no pattern`}
          </summary>
          <ul className="unmatched mono" data-testid="unmatched-keys">
            {unmatched.map((k) => (
              <li key={k}>{strip(k)}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

// --- following imports -------------------------------------------------------------------------

const COUNTS: Array<[string, string]> = [
  ["objects_scanned", "objects scanned"],
  ["objects_matched", "matched"],
  ["datasets_created", "datasets created"],
  ["datasets_existing", "already imported"],
  ["groups_skipped", "skipped"],
];

function ImportProgress({ id }: { id: string }) {
  const t = useTenant();
  const queryClient = useQueryClient();
  const job = useQuery({
    queryKey: ["imports", t.slug, id],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/imports/{import_id}", { params: { path: { tenant: t.slug, import_id: id } } })),
    refetchInterval: (q) => (q.state.data && !RUNNING.has(q.state.data.status) ? false : 1000),
  });
  const running = job.data ? RUNNING.has(job.data.status) : false;
  useEffect(() => {
    if (running) return;
    void queryClient.invalidateQueries({ queryKey: ["imports", t.slug, "list"] });
    void queryClient.invalidateQueries({ queryKey: ["import-preview", t.slug] });
  }, [running, queryClient, t.slug]);
  const place = useRef<HTMLDivElement>(null);
  useEffect(() => place.current?.scrollIntoView?.({ behavior: "smooth", block: "start" }), [id]);
  const cancel = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/tenants/{tenant}/imports/{import_id}/cancel", { params: { path: { tenant: t.slug, import_id: id } } })),
    onSuccess: (data) => queryClient.setQueryData(["imports", t.slug, id], data),
  });
  if (job.isPending) return <Loading />;
  if (job.error) return <ErrorMessage error={job.error} title="Import" />;
  const data = job.data;
  const progress = data.progress as Record<string, unknown>;
  const problems = (progress.problems as string[] | undefined) ?? [];
  const phase = String(progress.phase ?? (data.status === "queued" ? "waiting for a worker" : ""));
  const spec = data.spec;
  return (
    <div ref={place}>
      <Section
        title="Import progress"
        testId="import-progress"
        actions={
          running ? (
            <Button variant="danger" busy={cancel.isPending} onClick={() => cancel.mutate()}>
              Cancel import
            </Button>
          ) : undefined
        }
      >
        <div className="row">
          <StatusBadge status={data.status} />
          <span className="mono">
            s3://{spec.bucket}/{spec.prefix}
          </span>
          <span className="muted">→ {spec.data_type}</span>
          {running && phase && <span className="muted">({phase === "scan" ? "reading the listing" : phase === "create" ? "creating datasets" : phase})</span>}
        </div>
        {running && <progress className="progress" aria-label="Import running" />}
        <div className="import-counts">
          {COUNTS.map(([k, label]) => (
            <div className="import-count" key={k}>
              <strong>{Number(progress[k] ?? 0).toLocaleString("en-US")}</strong>
              <span className="muted">{label}</span>
            </div>
          ))}
        </div>
        <KeyValues
          items={[
            ["Started", formatDate(data.started_at ?? data.created_at)],
            ["Took", data.finished_at ? formatDuration(secondsBetween(data.started_at ?? data.created_at, data.finished_at)) : "—"],
          ]}
        />
        <ErrorMessage error={cancel.error} />
        {data.error && <ErrorMessage error={new Error(data.error)} title="The import failed" />}
        {problems.length > 0 && (
          <Notice kind="warning">
            Skipped groups:
            <ul>
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </Notice>
        )}
        {data.status === "succeeded" && (
          <p>
            <Link to={t.href(`/data/${encodeURIComponent(spec.data_type)}`)}>Open the {spec.data_type} datasets</Link>
          </p>
        )}
      </Section>
    </div>
  );
}

function PastImports({ onShow, current }: { onShow: (id: string) => void; current: string | null }) {
  const t = useTenant();
  const imports = useQuery({
    queryKey: ["imports", t.slug, "list"],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/imports", { params: { path: { tenant: t.slug } } })),
    refetchInterval: (q) => (q.state.data?.some((j) => RUNNING.has(j.status)) ? 2000 : false),
  });
  const columns: ColumnDef<ImportPublic, unknown>[] = [
    { id: "created", header: "Started", cell: ({ row }) => formatDate(row.original.created_at) },
    { id: "status", header: "Status", cell: ({ row }) => <StatusBadge status={row.original.status} /> },
    { id: "source", header: "Source", cell: ({ row }) => <span className="mono">s3://{row.original.spec.bucket}/{row.original.spec.prefix}</span> },
    { id: "type", header: "Data type", cell: ({ row }) => row.original.spec.data_type },
    { id: "created_count", header: "Created", cell: ({ row }) => Number((row.original.progress as Record<string, unknown>).datasets_created ?? 0).toLocaleString("en-US") },
    {
      id: "show",
      header: "",
      cell: ({ row }) =>
        row.original.id === current ? (
          <span className="muted">shown above</span>
        ) : (
          <Button variant="ghost" onClick={() => onShow(row.original.id)}>
            Details
          </Button>
        ),
    },
  ];
  return (
    <Section title="Past imports" testId="past-imports">
      {imports.error ? (
        <ErrorMessage error={imports.error} />
      ) : imports.isPending ? (
        <Loading />
      ) : (
        <DataTable
          data={imports.data}
          columns={columns}
          getRowId={(j) => j.id}
          label="Past imports"
          empty={<EmptyState title="No imports yet">Browse a bucket above, write the patterns and start one.</EmptyState>}
        />
      )}
    </Section>
  );
}
