// One run: its status (and the one line that says why it failed), the timeline of its states,
// its tasks and logs (live while it runs), params, inputs and the datasets it made; cancel,
// relaunch and resume for those the API lets (members their own runs, admins any).
import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, unwrap } from "../../api/client";
import { type ColumnDef, DataTable } from "../../components/DataTable";
import { Button, CopyButton, Dialog, EmptyState, ErrorMessage, Field, KeyValues, Loading, Page, Section, StatusBadge } from "../../components/ui";
import { formatBytes, formatDate, formatDuration } from "../../format";
import { useMe, useTenant } from "../../session";
import { IdempotencyKeys } from "../pipelines/launchModel";
import { RunLogs } from "./RunLogs";
import { LIVE_INTERVAL_MS, type Run, type Task, buildTimeline, failureLine, isActive, runActions, runSeconds, taskSeconds } from "./runModel";
import "./runs.css";

function Timeline({ run }: { run: string }) {
  const t = useTenant();
  const transitions = useQuery({
    queryKey: ["run-transitions", t.slug, run],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/runs/{run}/transitions", { params: { path: { tenant: t.slug, run } } })),
  });
  if (transitions.error) return <ErrorMessage error={transitions.error} />;
  if (transitions.isPending) return <Loading />;
  const steps = buildTimeline(transitions.data);
  return (
    <ol className="timeline" aria-label="Status timeline">
      {steps.map((step, i) => (
        <li key={i} className={`timeline-step tone-${step.status.toLowerCase()}${step.current ? " current" : ""}`}>
          <span className="timeline-dot" aria-hidden="true" />
          <div>
            <div className="row">
              <StatusBadge status={step.status} />
              <time dateTime={step.at} className="muted">
                {formatDate(step.at)}
              </time>
              {step.seconds !== null && <span className="muted small">for {formatDuration(step.seconds)}</span>}
            </div>
            {step.reason && <div className="timeline-reason">{step.reason}</div>}
          </div>
        </li>
      ))}
    </ol>
  );
}

function Tasks({ run, live }: { run: string; live: boolean }) {
  const t = useTenant();
  const tasks = useQuery({
    queryKey: ["run-tasks", t.slug, run],
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/runs/{run}/tasks", { params: { path: { tenant: t.slug, run }, query: { limit: 1000 } } })),
    refetchInterval: live ? LIVE_INTERVAL_MS : false,
  });
  const columns: ColumnDef<Task>[] = [
    { id: "id", header: "#", cell: ({ row }) => row.original.task_id },
    { id: "status", header: "Status", cell: ({ row }) => <StatusBadge status={row.original.status} /> },
    {
      id: "name",
      header: "Task",
      cell: ({ row }) => (
        <div>
          {row.original.name || row.original.process}
          {row.original.hash && <div className="muted small mono">{row.original.hash}</div>}
        </div>
      ),
    },
    { id: "duration", header: "Duration", cell: ({ row }) => formatDuration(taskSeconds(row.original)) },
    { id: "exit", header: "Exit code", cell: ({ row }) => (row.original.exit_code === null ? "—" : <span className={row.original.exit_code ? "exit-bad" : ""}>{row.original.exit_code}</span>) },
    { id: "cpu", header: "CPU", cell: ({ row }) => (row.original.cpu_percent === null ? "—" : `${row.original.cpu_percent.toFixed(0)} %`) },
    { id: "memory", header: "Peak memory", cell: ({ row }) => formatBytes(row.original.peak_rss) },
    { id: "attempt", header: "Attempt", cell: ({ row }) => row.original.attempt },
  ];
  if (tasks.error) return <ErrorMessage error={tasks.error} />;
  if (tasks.isPending) return <Loading label="Loading tasks…" />;
  return (
    <>
      <DataTable
        label="Tasks"
        testId="tasks-table"
        data={tasks.data.items}
        columns={columns}
        getRowId={(task) => String(task.task_id)}
        empty={<EmptyState title={live ? "No task has started yet" : "This run reported no tasks"}>{live ? "Tasks appear here as the pipeline starts them." : "Its logs say what happened."}</EmptyState>}
      />
      {tasks.data.next_cursor && <p className="muted small">Showing the first 1,000 tasks.</p>}
    </>
  );
}

function Outputs({ run, live }: { run: string; live: boolean }) {
  const t = useTenant();
  const outputs = useQuery({
    queryKey: ["run-outputs", t.slug, run],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/runs/{run}/outputs", { params: { path: { tenant: t.slug, run } } })),
    refetchInterval: live ? LIVE_INTERVAL_MS * 2 : false,
  });
  if (outputs.error) return <ErrorMessage error={outputs.error} />;
  if (outputs.isPending) return <Loading />;
  if (outputs.data.length === 0) {
    return <EmptyState title={live ? "No outputs yet" : "No outputs"}>{live ? "The files the run publishes become datasets when it ends." : "This run published no files that became datasets."}</EmptyState>;
  }
  return (
    <ul className="output-list" data-testid="run-outputs">
      {outputs.data.map((o) => (
        <li key={o.path}>
          {o.dataset_id && o.short_id ? (
            <>
              <Link to={t.href(`/datasets/${encodeURIComponent(o.short_id)}`)}>{o.name}</Link>
              <span className="mono muted small">{o.short_id}</span>
            </>
          ) : (
            <span className="muted">not a dataset</span>
          )}
          <code className="muted small">{o.path}</code>
        </li>
      ))}
    </ul>
  );
}

/** Names are looked up for this many inputs; a run on more lists the rest by id. */
const NAMED_INPUTS = 50;

function Inputs({ refs }: { refs: string[] }) {
  const t = useTenant();
  const named = useQueries({
    queries: refs.slice(0, NAMED_INPUTS).map((ref) => ({
      queryKey: ["dataset", t.slug, ref],
      queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/datasets/{dataset}", { params: { path: { tenant: t.slug, dataset: ref } } })),
      staleTime: 60_000,
    })),
  });
  if (refs.length === 0) return <p className="muted">No input datasets.</p>;
  return (
    <ul className="output-list" data-testid="run-inputs">
      {refs.map((ref, i) => {
        const dataset = named[i]?.data;
        return (
          <li key={ref}>
            <Link to={t.href(`/datasets/${encodeURIComponent(ref)}`)}>{dataset?.name ?? ref}</Link>
            {dataset && <span className="mono muted small">{ref}</span>}
            {dataset && <span className="badge badge-neutral">{dataset.data_type}</span>}
          </li>
        );
      })}
    </ul>
  );
}

function parseOverrides(text: string): { params?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { params: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (!value || typeof value !== "object" || Array.isArray(value)) return { error: "Write a JSON object, e.g. {\"max_reads\": 100}" };
    return { params: value as Record<string, unknown> };
  } catch (e) {
    return { error: `Not valid JSON: ${(e as Error).message}` };
  }
}

function AgainDialog({ run, kind, onClose }: { run: Run; kind: "relaunch" | "resume"; onClose: () => void }) {
  const t = useTenant();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [name, setName] = useState(run.name);
  const [overrides, setOverrides] = useState("");
  const keys = useRef(new IdempotencyKeys());
  const parsed = parseOverrides(overrides);
  const again = useMutation({
    mutationFn: () => {
      const body = { name, params: parsed.params ?? {} };
      const options = { params: { path: { tenant: t.slug, run: run.short_id } }, body: { ...body, idempotency_key: keys.current.keyFor(body) } };
      return unwrap(
        kind === "relaunch"
          ? api.POST("/api/v1/tenants/{tenant}/runs/{run}/relaunch", options)
          : api.POST("/api/v1/tenants/{tenant}/runs/{run}/resume", options),
      );
    },
    onSuccess: async (made) => {
      await queryClient.invalidateQueries({ queryKey: ["runs", t.slug] });
      onClose();
      navigate(t.href(`/runs/${made.short_id}`));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsed.error && !again.isPending) again.mutate();
  };
  return (
    <form onSubmit={submit} className="stack">
      <p>
        {kind === "relaunch"
          ? `A new run of ${run.pipeline} v${run.pipeline_version} with the same params, inputs and environment.`
          : "A new run that continues this one in the same work directory: tasks that finished are not run again."}
      </p>
      <Field label="Run name">
        <input type="text" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="Change params (optional)" hint="A JSON object of params to set over this run's, e.g. {&quot;max_reads&quot;: 100}." error={parsed.error}>
        <textarea rows={4} value={overrides} onChange={(e) => setOverrides(e.target.value)} placeholder="{}" />
      </Field>
      <ErrorMessage error={again.error} />
      <div className="row dialog-actions">
        <Button type="submit" variant="primary" busy={again.isPending}>
          {kind === "relaunch" ? "Relaunch" : "Resume"}
        </Button>
        <Button onClick={onClose}>Cancel</Button>
      </div>
    </form>
  );
}

function CancelDialog({ run, onClose }: { run: Run; onClose: () => void }) {
  const t = useTenant();
  const queryClient = useQueryClient();
  const [reason, setReason] = useState("");
  const cancel = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/tenants/{tenant}/runs/{run}/cancel", { params: { path: { tenant: t.slug, run: run.short_id } }, body: { reason } })),
    onSuccess: async (updated) => {
      queryClient.setQueryData(["run", t.slug, run.short_id], updated);
      await queryClient.invalidateQueries({ queryKey: ["run", t.slug] });
      await queryClient.invalidateQueries({ queryKey: ["run-transitions", t.slug] });
      onClose();
    },
  });
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (!cancel.isPending) cancel.mutate();
      }}
    >
      <p>
        Stop <strong>{run.name}</strong> and every task it started? Tasks that finished keep their results; the run can be resumed later.
      </p>
      <Field label="Reason (optional)">
        <input type="text" value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
      </Field>
      <ErrorMessage error={cancel.error} />
      <div className="row dialog-actions">
        <Button type="submit" variant="danger" busy={cancel.isPending}>
          Cancel the run
        </Button>
        <Button onClick={onClose}>Keep it running</Button>
      </div>
    </form>
  );
}

function showValue(value: unknown): ReactNode {
  if (value === null || value === undefined || value === "") return <span className="muted">—</span>;
  if (typeof value === "string") return <code>{value}</code>;
  return <code>{JSON.stringify(value)}</code>;
}

export default function RunPage() {
  const t = useTenant();
  const me = useMe();
  const { run: ref = "" } = useParams();
  const [dialog, setDialog] = useState<null | "cancel" | "relaunch" | "resume">(null);
  const run = useQuery({
    queryKey: ["run", t.slug, ref],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/runs/{run}", { params: { path: { tenant: t.slug, run: ref } } })),
    refetchInterval: (query) => (query.state.data && isActive(query.state.data.status) ? LIVE_INTERVAL_MS : false),
  });
  const queryClient = useQueryClient();
  const status = run.data?.status;
  const lastStatus = useRef<string | undefined>(undefined);
  useEffect(() => {
    // A new status: the timeline has a new step, the tasks and outputs may have changed.
    if (lastStatus.current !== undefined && status !== lastStatus.current) {
      for (const key of ["run-transitions", "run-outputs", "run-tasks"]) {
        void queryClient.invalidateQueries({ queryKey: [key, t.slug, ref] });
      }
    }
    lastStatus.current = status;
  }, [status, queryClient, t.slug, ref]);

  if (run.isPending) return <Loading label="Loading the run…" />;
  if (run.error) return <ErrorMessage error={run.error} />;
  const r = run.data;
  const live = isActive(r.status);
  const actions = runActions(r, { email: me.data?.user.email ?? "" }, (p) => t.can(p));
  const failure = failureLine(r);
  const duration = runSeconds(r);

  return (
    <Page
      title={r.name}
      subtitle={
        <span className="run-subtitle">
          <StatusBadge status={r.status} /> <span>{r.short_id}</span> ·{" "}
          <Link to={t.href(`/pipelines/${encodeURIComponent(r.pipeline)}`)}>
            {r.pipeline} v{r.pipeline_version}
          </Link>{" "}
          · launched by {r.created_by} on {formatDate(r.created_at)}
          {duration !== null && <> · took {formatDuration(duration)}</>}
          {live && (
            <>
              <span className="live-dot" aria-hidden="true" />
              <span className="visually-hidden">live</span>
            </>
          )}
        </span>
      }
      actions={
        <>
          {actions.cancel && (
            <Button variant="danger" onClick={() => setDialog("cancel")}>
              Cancel run
            </Button>
          )}
          {actions.resume && <Button onClick={() => setDialog("resume")}>Resume</Button>}
          {actions.relaunch && <Button onClick={() => setDialog("relaunch")}>Relaunch</Button>}
          <Link className="btn btn-ghost" to={t.href("/runs")}>
            ← All runs
          </Link>
        </>
      }
    >
      {failure && (
        <div className="alert alert-error failure" role="alert" data-testid="failure-reason">
          <strong>Failed: </strong>
          {failure}
        </div>
      )}
      {r.status === "CANCELLED" && r.status_reason && <div className="alert alert-info" role="status">{r.status_reason}</div>}

      <div className="run-top">
        <Section title="Status timeline" testId="timeline">
          <Timeline run={ref} />
        </Section>
        <Section title="Details">
          <KeyValues
            items={[
              ["Status", <StatusBadge key="s" status={r.status} />],
              ["Pipeline", `${r.pipeline} v${r.pipeline_version} (${r.engine})`],
              ...(r.commit ? ([["Commit", <code key="c">{r.commit.slice(0, 12)}</code>]] as Array<[string, ReactNode]>) : []),
              ["Where", r.environment === r.executor ? r.environment : `${r.environment} (${r.executor})`],
              ["Started", formatDate(r.started_at)],
              ["Finished", formatDate(r.finished_at)],
              ["Exit code", r.exit_code === null ? "—" : String(r.exit_code)],
              ...(r.labels.length ? ([["Labels", r.labels.join(", ")]] as Array<[string, ReactNode]>) : []),
              ...(r.relaunch_of ? ([["Relaunch of", <Link key="rl" to={t.href(`/runs/${r.relaunch_of}`)}>an earlier run</Link>]] as Array<[string, ReactNode]>) : []),
              ...(r.resume_of ? ([["Resumes", <Link key="rs" to={t.href(`/runs/${r.resume_of}`)}>an earlier run</Link>]] as Array<[string, ReactNode]>) : []),
              ["Run directory", <span key="rd" className="row run-dir"><code className="path">{r.run_dir}</code><CopyButton text={r.run_dir} /></span>],
            ]}
          />
        </Section>
      </div>

      <Section title="Tasks" testId="tasks">
        <Tasks run={ref} live={live} />
      </Section>

      <Section title="Logs" testId="logs">
        <RunLogs run={ref} live={live} />
      </Section>

      <div className="grid-2">
        <Section title="Inputs" testId="inputs">
          <Inputs refs={r.inputs} />
        </Section>
        <Section title="Outputs" testId="outputs">
          <Outputs run={ref} live={live} />
        </Section>
      </div>

      <Section title="Params" testId="params">
        <KeyValues items={Object.entries(r.params).map(([k, v]) => [k, showValue(v)] as [string, ReactNode])} />
      </Section>

      <Dialog open={dialog === "cancel"} title={`Cancel ${r.short_id}?`} onClose={() => setDialog(null)}>
        <CancelDialog run={r} onClose={() => setDialog(null)} />
      </Dialog>
      <Dialog open={dialog === "relaunch" || dialog === "resume"} title={dialog === "resume" ? `Resume ${r.short_id}` : `Relaunch ${r.short_id}`} onClose={() => setDialog(null)}>
        {dialog && dialog !== "cancel" && <AgainDialog run={r} kind={dialog} onClose={() => setDialog(null)} />}
      </Dialog>
    </Page>
  );
}
