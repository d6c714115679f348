// Launch a pipeline: pick it and its version, the input datasets (the selection the Data page
// sent in `?datasets=`, or a catalog query), fill the params form generated from its
// `nextflow_schema.json`, pick where it runs, and see what will be written (the samplesheet,
// the params with defaults) before anything is: `POST runs/preview` is a dry run. Launching
// carries an idempotency key, so a double click or a retried request makes one run.
import Form from "@rjsf/core";
import type { ErrorSchema, RJSFValidationError, ValidatorType } from "@rjsf/utils";
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { type ReactNode, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../../api/client";
import { Button, CopyButton, EmptyState, ErrorMessage, Field, Loading, Notice, Page, Section } from "../../components/ui";
import { useDataTypes, useEnvironments, usePipelines } from "../../hooks/tenantLists";
import { useDebounced } from "../../hooks/useDebounced";
import { plural } from "../../format";
import { useTenant } from "../../session";
import {
  type Condition,
  IdempotencyKeys,
  type InputsChoice,
  OPERATORS,
  buildQuery,
  launchBody,
  selectionFromSearch,
} from "./launchModel";
import { type FormData, buildForm, customMessage, fromParams, platformParams, problemPath, toParams } from "./paramsForm";
import { cspSafeValidator } from "./validator";
import "./pipelines.css";

type Preview = Schemas["LaunchPreview"];

function Step({ n, title, children, actions, testId }: { n: number; title: string; children: ReactNode; actions?: ReactNode; testId?: string }) {
  return (
    <section className="card launch-step" aria-labelledby={`step-${n}`} data-testid={testId}>
      <header className="card-header">
        <h2 id={`step-${n}`}>
          <span className="step-number" aria-hidden="true">
            {n}
          </span>
          {title}
        </h2>
        {actions}
      </header>
      {children}
    </section>
  );
}

function QueryBuilder(props: {
  dataType: string;
  conditions: Condition[];
  onType: (t: string) => void;
  onConditions: (c: Condition[]) => void;
}) {
  const types = useDataTypes();
  const chosen = types.data?.find((d) => d.name === props.dataType);
  const set = (i: number, change: Partial<Condition>) =>
    props.onConditions(props.conditions.map((c, j) => (j === i ? { ...c, ...change } : c)));
  return (
    <div className="stack">
      <ErrorMessage error={types.error} />
      <Field label="Data type">
        <select value={props.dataType} onChange={(e) => props.onType(e.target.value)}>
          <option value="">Any type</option>
          {(types.data ?? []).map((d) => (
            <option key={d.name} value={d.name}>
              {d.name}
            </option>
          ))}
        </select>
      </Field>
      {props.conditions.map((c, i) => (
        <fieldset key={i} className="launch-condition">
          <legend className="visually-hidden">Condition {i + 1}</legend>
          <Field label="Property">
            <input
              type="text"
              list="launch-properties"
              value={c.property}
              onChange={(e) => set(i, { property: e.target.value })}
              placeholder="sample"
            />
          </Field>
          <Field label="Condition">
            <select value={c.op} onChange={(e) => set(i, { op: e.target.value })}>
              {OPERATORS.map((o) => (
                <option key={o.op} value={o.op}>
                  {o.label}
                </option>
              ))}
            </select>
          </Field>
          {c.op !== "?" && (
            <Field label="Value" hint={c.op === "in" ? "Comma-separated" : undefined}>
              <input type="text" value={c.value} onChange={(e) => set(i, { value: e.target.value })} />
            </Field>
          )}
          <Button variant="ghost" aria-label={`Remove condition ${i + 1}`} onClick={() => props.onConditions(props.conditions.filter((_, j) => j !== i))}>
            Remove
          </Button>
        </fieldset>
      ))}
      <datalist id="launch-properties">
        {(chosen?.properties ?? []).map((p) => (
          <option key={p.name} value={p.name} />
        ))}
      </datalist>
      <div>
        <Button onClick={() => props.onConditions([...props.conditions, { property: "", op: "=", value: "" }])}>+ Add a condition</Button>
      </div>
    </div>
  );
}

/** A file's URL shown by its name (the whole URL is in the cell's title and the CSV). */
function shortCell(cell: string): string {
  return cell.includes("://") ? `…/${cell.split("/").filter(Boolean).pop() ?? cell}` : cell;
}

function SamplesheetPreview({ preview }: { preview: Preview }) {
  const sheet = preview.samplesheet;
  if (!sheet) {
    return (
      <p className="muted">
        {preview.engine === "script"
          ? "This pipeline reads its input datasets directly: no samplesheet is written. Each dataset's files are staged for it."
          : "This pipeline takes no samplesheet."}
      </p>
    );
  }
  return (
    <div className="stack">
      <div className="row">
        <span className="muted">
          <code>samplesheet.csv</code>, passed as <code>--{sheet.param}</code>: {plural(sheet.rows.length, "row")}
        </span>
        <CopyButton text={sheet.csv} label="Copy CSV" />
      </div>
      <div className="table-wrap samplesheet">
        <table className="table" aria-label="Samplesheet preview" data-testid="samplesheet-preview">
          <thead>
            <tr>
              {sheet.columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {sheet.rows.map((row, i) => (
              <tr key={i}>
                {row.map((cell, j) => (
                  <td key={j} className="mono" title={cell}>
                    {shortCell(cell)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function InputsList({ preview }: { preview: Preview }) {
  const t = useTenant();
  if (preview.inputs.length === 0) return null;
  return (
    <ul className="input-list" aria-label="Input datasets">
      {preview.inputs.map((d) => (
        <li key={d.id}>
          <Link to={t.href(`/datasets/${encodeURIComponent(d.short_id)}`)}>{d.short_id}</Link> {d.name}{" "}
          <span className="badge badge-neutral">{d.data_type}</span>
          {d.files.length > 0 && <span className="muted"> · {plural(d.files.length, "file")}</span>}
        </li>
      ))}
    </ul>
  );
}

export default function LaunchPage() {
  const t = useTenant();
  const navigate = useNavigate();
  const [search, setSearch] = useSearchParams();
  const pipelineName = search.get("pipeline") ?? "";
  const versionParam = search.get("version");
  const version = versionParam ? Number(versionParam) : null;
  const selection = useMemo(() => selectionFromSearch(search), [search]);

  const [mode, setMode] = useState<"selection" | "query">(selection.length ? "selection" : "query");
  const [dataType, setDataType] = useState("");
  const [conditions, setConditions] = useState<Condition[]>([]);
  const [formData, setFormData] = useState<FormData>({});
  const [showHidden, setShowHidden] = useState(false);
  const [environment, setEnvironment] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const keys = useRef(new IdempotencyKeys());
  const formRef = useRef<Form<FormData>>(null);

  const pipelines = usePipelines();
  const pipeline = pipelines.data?.find((p) => p.name === pipelineName);
  const versions = useQuery({
    queryKey: ["pipeline-versions", t.slug, pipelineName],
    enabled: Boolean(pipeline),
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/pipelines/{ref}/versions", { params: { path: { tenant: t.slug, ref: pipelineName } } })),
  });
  const schema = useQuery({
    queryKey: ["pipeline-schema", t.slug, pipelineName, version ?? pipeline?.latest_version],
    enabled: Boolean(pipeline),
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/pipelines/{ref}/schema", {
          params: { path: { tenant: t.slug, ref: pipelineName }, query: { version } },
        }),
      ),
  });
  const environments = useEnvironments();
  // The default: the tenant's default environment, else this server ("local"), as the API does.
  const chosenEnvironment = environment ?? environments.data?.find((e) => e.is_default)?.name ?? "local";

  const form = schema.data;
  const built = useMemo(
    () => (form ? buildForm(form, { showHidden, skip: platformParams(form, pipeline?.engine) }) : null),
    [form, showHidden, pipeline?.engine],
  );
  // A new pipeline or version starts from its defaults (or from `?params=` of a relaunch).
  useEffect(() => {
    if (!form) return;
    const given = search.get("params");
    let initial: FormData = {};
    if (given) {
      try {
        initial = fromParams(form, JSON.parse(given) as Record<string, unknown>);
      } catch {
        initial = {};
      }
    }
    setFormData(initial);
    setSubmitted(false);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [form]);

  const { query, errors: queryErrors } = buildQuery(dataType, conditions);
  const inputs: InputsChoice = mode === "selection" ? { mode, datasets: selection } : { mode, query };
  const params = form ? toParams(form, formData) : {};
  const body = launchBody({ pipeline: pipelineName, version, environment: chosenEnvironment, params, inputs, name });
  const previewBody = useDebounced(body, 350);
  const hasInputs = mode === "selection" ? selection.length > 0 : query.length > 0 && queryErrors.length === 0;
  // Script pipelines declare their inputs; a samplesheet param needs datasets to be written.
  const takesInputs = form ? (form.inputs ?? []).length > 0 || Boolean(form.samplesheet_param) : true;
  const needsInputs = form ? (form.inputs ?? []).some((i) => i.required !== false) || Boolean(form.samplesheet_param) : true;
  const preview = useQuery({
    queryKey: ["launch-preview", t.slug, previewBody],
    // The debounced body may still name the pipeline picked before (or none) for a moment.
    enabled: Boolean(pipeline && form) && previewBody.pipeline === body.pipeline && t.can("launch") && (hasInputs || !needsInputs),
    placeholderData: keepPreviousData,
    retry: false,
    queryFn: () =>
      unwrap(api.POST("/api/v1/tenants/{tenant}/runs/preview", { params: { path: { tenant: t.slug } }, body: previewBody })),
  });

  // The chips of the selection read by name once the preview resolved them.
  const selectedNames = useMemo(() => new Map((preview.data?.inputs ?? []).map((d) => [d.short_id, d.name])), [preview.data]);

  // The browser's own check of the form (the same one rjsf shows beside the fields).
  const clientErrors = useMemo(
    () => new Set(built ? cspSafeValidator.validateFormData(formData, built.schema).errors.map((e) => e.property ?? "") : []),
    [built, formData],
  );
  // The server's problems with params, beside the fields they are about (unless the browser
  // already says what is wrong there).
  const problems = preview.data?.problems ?? [];
  const extraErrors = useMemo(() => {
    if (!form || !submitted) return undefined;
    const tree: Record<string, Record<string, { __errors: string[] }>> = {};
    for (const p of problems) {
      const where = problemPath(form, p.param);
      if (!where || clientErrors.has(`.${where[0]}.${where[1]}`)) continue;
      const [group, param] = where;
      ((tree[group] ??= {})[param] ??= { __errors: [] }).__errors.push(p.message);
    }
    return tree as unknown as ErrorSchema<FormData>;
  }, [form, problems, submitted, clientErrors]);
  const unplaced = form ? problems.filter((p) => !problemPath(form, p.param)) : [];

  const launch = useMutation({
    mutationFn: (launchRequest: Schemas["LaunchRequest"]) =>
      unwrap(api.POST("/api/v1/tenants/{tenant}/runs", { params: { path: { tenant: t.slug } }, body: launchRequest })),
    onSuccess: (run) => navigate(t.href(`/runs/${run.short_id}`)),
  });

  const transformErrors = (errors: RJSFValidationError[]) =>
    errors.map((e) => {
      const [group, param] = (e.property ?? "").split(".").filter(Boolean);
      const custom = form && group && param ? customMessage(form, group, param) : undefined;
      return custom && e.name !== "required" ? { ...e, message: custom, stack: `${param}: ${custom}` } : e;
    });

  const submit = () => {
    setSubmitted(true);
    if (launch.isPending || launch.isSuccess) return;
    const valid = formRef.current ? formRef.current.validateForm() : true;
    if (!valid || (needsInputs && !hasInputs)) return;
    launch.mutate({ ...body, idempotency_key: keys.current.keyFor(body) });
  };

  if (!t.can("launch")) {
    return (
      <Page title="Launch">
        <Notice kind="warning">Your role in this tenant ({t.role ?? "none"}) can read runs but not launch them. Ask an admin for the member role.</Notice>
      </Page>
    );
  }
  if (pipelines.isPending) return <Loading label="Loading pipelines…" />;
  if (pipelines.error) return <ErrorMessage error={pipelines.error} />;

  const setParam = (key: string, value: string | null) => {
    const next = new URLSearchParams(search);
    if (value === null || value === "") next.delete(key);
    else next.set(key, value);
    if (key === "pipeline") next.delete("version");
    setSearch(next, { replace: true });
  };

  return (
    <Page
      title={pipeline ? `Launch ${pipeline.name}` : "Launch a pipeline"}
      subtitle="Pick the inputs, fill in the params, check what will be written, then launch."
      actions={
        pipeline && (
          <Link className="btn btn-ghost" to={t.href(`/pipelines/${encodeURIComponent(pipeline.name)}`)}>
            About {pipeline.name}
          </Link>
        )
      }
    >
      <div className="launch-layout">
        <div className="stack launch-main">
          <Step n={1} title="Pipeline" testId="launch-pipeline">
            <div className="grid-2">
              <Field label="Pipeline">
                <select value={pipelineName} onChange={(e) => setParam("pipeline", e.target.value)}>
                  <option value="">Choose a pipeline…</option>
                  {pipelines.data.map((p) => (
                    <option key={p.id} value={p.name}>
                      {p.name}
                    </option>
                  ))}
                </select>
              </Field>
              {pipeline && (
                <Field label="Version">
                  <select value={version ?? ""} onChange={(e) => setParam("version", e.target.value)}>
                    <option value="">Latest (v{pipeline.latest_version})</option>
                    {[...(versions.data ?? [])].reverse().map((v) => (
                      <option key={v.version} value={v.version}>
                        v{v.version} · {v.revision}
                        {v.commit ? ` (${v.commit.slice(0, 7)})` : ""}
                      </option>
                    ))}
                  </select>
                </Field>
              )}
            </div>
            {pipelineName && !pipeline && <ErrorMessage error={new Error(`There is no pipeline “${pipelineName}” in this tenant. Choose one above.`)} />}
          </Step>

          {pipeline && (
            <Step n={2} title="Input datasets" testId="launch-inputs">
              {!takesInputs && <p className="muted">This pipeline takes no input datasets.</p>}
              <div className="segmented" role="radiogroup" aria-label="Inputs from">
                <label>
                  <input type="radio" name="inputs-mode" checked={mode === "selection"} onChange={() => setMode("selection")} /> Selected datasets
                  {selection.length > 0 && ` (${selection.length})`}
                </label>
                <label>
                  <input type="radio" name="inputs-mode" checked={mode === "query"} onChange={() => setMode("query")} /> A catalog query
                </label>
              </div>
              {mode === "selection" ? (
                selection.length === 0 ? (
                  <EmptyState title="No datasets selected">
                    Select datasets on the <Link to={t.href("/data")}>Data</Link> page and use “Launch pipeline with these”, or switch to a catalog query.
                  </EmptyState>
                ) : (
                  <div className="row chips" role="group" aria-label="Selected datasets">
                    {selection.map((ref) => (
                      <span key={ref} className="chip">
                        <Link to={t.href(`/datasets/${encodeURIComponent(ref)}`)}>{selectedNames.get(ref) ?? ref}</Link>
                        {selectedNames.has(ref) && <span className="mono muted small">{ref}</span>}
                        <button
                          type="button"
                          className="chip-remove"
                          aria-label={`Remove ${selectedNames.get(ref) ?? ref}`}
                          onClick={() => {
                            const next = new URLSearchParams(search);
                            next.delete("datasets");
                            const rest = selection.filter((r) => r !== ref);
                            if (rest.length) next.set("datasets", rest.join(","));
                            setSearch(next, { replace: true });
                          }}
                        >
                          ✕
                        </button>
                      </span>
                    ))}
                  </div>
                )
              ) : (
                <>
                  <QueryBuilder dataType={dataType} conditions={conditions} onType={setDataType} onConditions={setConditions} />
                  {queryErrors.length > 0 && (
                    <div className="alert alert-warning" role="status">
                      {queryErrors.join("; ")}
                    </div>
                  )}
                  {query && <p className="muted">Query: <code>{query}</code></p>}
                </>
              )}
              {hasInputs && preview.data && !preview.error && (
                <p className="match-count" data-testid="input-count">
                  {mode === "query" ? `${plural(preview.data.inputs.length, "dataset")} match` : `${plural(preview.data.inputs.length, "dataset")} selected`}
                </p>
              )}
              {hasInputs && preview.data && <InputsList preview={preview.data} />}
            </Step>
          )}

          {pipeline && (
            <Step
              n={3}
              title="Params"
              testId="launch-params"
              actions={
                built && built.hiddenCount > 0 ? (
                  <label className="toggle">
                    <input type="checkbox" checked={showHidden} onChange={(e) => setShowHidden(e.target.checked)} /> Show hidden params ({built.hiddenCount})
                  </label>
                ) : undefined
              }
            >
              {schema.isPending ? (
                <Loading label="Loading the params form…" />
              ) : schema.error ? (
                <ErrorMessage error={schema.error} />
              ) : built && built.groups.length === 0 ? (
                <p className="muted">This pipeline has no params to fill in.</p>
              ) : built ? (
                <div className="params-form">
                  {form?.samplesheet_param && (
                    <p className="muted small">
                      <code>--{form.samplesheet_param}</code> is the samplesheet Mantle writes from the input datasets
                      {pipeline.engine === "nextflow" && <>; <code>--outdir</code> is the run's outputs folder</>}.
                    </p>
                  )}
                  <Form<FormData>
                    ref={formRef}
                    schema={built.schema}
                    uiSchema={{ ...built.uiSchema, "ui:submitButtonOptions": { norender: true } }}
                    formData={formData}
                    validator={cspSafeValidator as unknown as ValidatorType<FormData>}
                    onChange={(e) => setFormData((e.formData ?? {}) as FormData)}
                    onSubmit={submit}
                    // Errors are shown beside their fields (rjsf would log them as a console error).
                    onError={() => setSubmitted(true)}
                    liveValidate={submitted ? "onChange" : "onBlur"}
                    showErrorList={false}
                    noHtml5Validate
                    extraErrors={extraErrors}
                    transformErrors={transformErrors}
                    focusOnFirstError
                  />
                </div>
              ) : null}
            </Step>
          )}

          {pipeline && (
            <Step n={4} title="Run" testId="launch-run">
              <div className="grid-2">
                <Field label="Where it runs" hint="local: on this server. An AWS environment: on its Batch queue.">
                  <select value={chosenEnvironment} onChange={(e) => setEnvironment(e.target.value)}>
                    <option value="local">local (this server)</option>
                    {(environments.data ?? []).map((env) => (
                      <option key={env.id} value={env.name}>
                        {env.name}
                        {env.is_default ? " (default)" : ""} · {env.region}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field label="Run name" hint="Optional: a name is generated when empty.">
                  <input type="text" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} placeholder="e.g. liver batch 3" />
                </Field>
              </div>
              <ErrorMessage error={environments.error} />
            </Step>
          )}
        </div>

        {pipeline && (
          <aside className="stack launch-side" aria-label="What will be written">
            <Section title="Samplesheet and params" testId="launch-preview">
              {needsInputs && !hasInputs ? (
                <p className="muted">Choose the input datasets to see what will be written.</p>
              ) : preview.isPending && !preview.data ? (
                <Loading label="Checking…" />
              ) : preview.error ? (
                <ErrorMessage error={preview.error} title="This launch would be refused" />
              ) : preview.data ? (
                <div className="stack" aria-busy={preview.isFetching || undefined}>
                  <SamplesheetPreview preview={preview.data} />
                  <h3>Params sent to the pipeline</h3>
                  <pre className="params-json" data-testid="resolved-params">{JSON.stringify(preview.data.params, null, 2)}</pre>
                  <p className="muted small">
                    Runs on <strong>{preview.data.environment}</strong> ({preview.data.executor}); <code>{"{run_dir}"}</code> is the run's own folder, made at launch.
                  </p>
                </div>
              ) : null}
            </Section>
            <div className="card launch-submit">
              {submitted && (clientErrors.size > 0 || problems.length > 0) && (
                <div className="alert alert-error" role="alert">
                  {clientErrors.size > 0 || problems.length > unplaced.length
                    ? "Some params need fixing first: they are marked in the form."
                    : "This launch would be refused:"}
                  {unplaced.length > 0 && (
                    <ul>
                      {unplaced.map((p, i) => (
                        <li key={i}>{p.param ? `${p.param}: ${p.message}` : p.message}</li>
                      ))}
                    </ul>
                  )}
                </div>
              )}
              {submitted && needsInputs && !hasInputs && <div className="alert alert-error" role="alert">Choose the input datasets first.</div>}
              <ErrorMessage error={launch.error} title="The launch failed" />
              <Button variant="primary" className="btn-launch" onClick={submit} busy={launch.isPending || launch.isSuccess} disabled={!pipeline}>
                Launch {pipeline.name}
              </Button>
            </div>
          </aside>
        )}
      </div>
    </Page>
  );
}
