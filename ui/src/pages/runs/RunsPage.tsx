// Runs of the tenant, newest first: filters by status (several), pipeline, who launched and
// when (kept in the URL, so a filtered list can be shared), cursor pages, and a live refresh
// while any run on the page is still moving.
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, unwrap } from "../../api/client";
import { type ColumnDef, CursorPager, DataTable } from "../../components/DataTable";
import { Button, EmptyState, ErrorMessage, Field, Loading, Page, StatusBadge } from "../../components/ui";
import { usePipelines } from "../../hooks/tenantLists";
import { formatDate, formatDuration } from "../../format";
import { useMe, useTenant } from "../../session";
import {
  LIVE_INTERVAL_MS,
  RUN_STATUSES,
  type Run,
  type RunFilters,
  anyActive,
  filtersFromSearch,
  filtersToSearch,
  localToInstant,
  runSeconds,
} from "./runModel";
import "./runs.css";

const PAGE_SIZE = 25;

function Filters({ filters, onChange }: { filters: RunFilters; onChange: (f: RunFilters) => void }) {
  const me = useMe();
  const pipelines = usePipelines();
  const toggle = (status: string) =>
    onChange({
      ...filters,
      status: filters.status.includes(status) ? filters.status.filter((s) => s !== status) : [...filters.status, status],
    });
  const email = me.data?.user.email ?? "";
  const active = filters.status.length + (filters.pipeline ? 1 : 0) + (filters.createdBy ? 1 : 0) + (filters.since ? 1 : 0) + (filters.until ? 1 : 0);
  return (
    <section className="card run-filters" aria-label="Filters">
      <fieldset className="status-filter">
        <legend>Status</legend>
        {RUN_STATUSES.map((s) => (
          <label key={s} className={`status-chip${filters.status.includes(s) ? " on" : ""}`}>
            <input type="checkbox" checked={filters.status.includes(s)} onChange={() => toggle(s)} />
            {s.toLowerCase()}
          </label>
        ))}
      </fieldset>
      <div className="filter-row">
        <Field label="Pipeline">
          <select value={filters.pipeline} onChange={(e) => onChange({ ...filters, pipeline: e.target.value })}>
            <option value="">All pipelines</option>
            {(pipelines.data ?? []).map((p) => (
              <option key={p.id} value={p.name}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Launched by" hint={email ? <button type="button" className="linklike" onClick={() => onChange({ ...filters, createdBy: email })}>Only mine</button> : undefined}>
          <input type="email" value={filters.createdBy} placeholder="anyone (an email)" onChange={(e) => onChange({ ...filters, createdBy: e.target.value })} />
        </Field>
        <Field label="Launched after">
          <input type="datetime-local" value={filters.since} onChange={(e) => onChange({ ...filters, since: e.target.value })} />
        </Field>
        <Field label="Launched before">
          <input type="datetime-local" value={filters.until} onChange={(e) => onChange({ ...filters, until: e.target.value })} />
        </Field>
        {active > 0 && (
          <Button variant="ghost" onClick={() => onChange({ status: [], pipeline: "", createdBy: "", since: "", until: "" })}>
            Clear filters
          </Button>
        )}
      </div>
    </section>
  );
}

export default function RunsPage() {
  const t = useTenant();
  const [search, setSearch] = useSearchParams();
  const filters = filtersFromSearch(search);
  // The cursors of the pages we came through ([] on the first page).
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const runs = useQuery({
    queryKey: ["runs", t.slug, filters, cursor],
    placeholderData: keepPreviousData,
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/runs", {
          params: {
            path: { tenant: t.slug },
            query: {
              status: filters.status.length ? (filters.status as Run["status"][] as never) : undefined,
              pipeline: filters.pipeline || undefined,
              created_by: filters.createdBy.trim() || undefined,
              since: localToInstant(filters.since),
              until: localToInstant(filters.until),
              limit: PAGE_SIZE,
              cursor,
            },
          },
        }),
      ),
    refetchInterval: (query) => (anyActive(query.state.data?.items ?? []) ? LIVE_INTERVAL_MS : false),
  });
  const setFilters = (f: RunFilters) => {
    setCursors([]);
    setSearch(filtersToSearch(f), { replace: true });
  };

  const columns: ColumnDef<Run>[] = [
    { id: "status", header: "Status", cell: ({ row }) => <StatusBadge status={row.original.status} /> },
    {
      id: "run",
      header: "Run",
      cell: ({ row }) => (
        <div>
          <Link to={t.href(`/runs/${row.original.short_id}`)} className="strong-link">
            {row.original.name}
          </Link>
          <div className="muted small">{row.original.short_id}</div>
        </div>
      ),
    },
    {
      id: "pipeline",
      header: "Pipeline",
      cell: ({ row }) => (
        <Link to={t.href(`/pipelines/${encodeURIComponent(row.original.pipeline)}`)}>
          {row.original.pipeline} <span className="muted">v{row.original.pipeline_version}</span>
        </Link>
      ),
    },
    { id: "env", header: "Where", cell: ({ row }) => row.original.environment },
    { id: "by", header: "Launched by", cell: ({ row }) => row.original.created_by },
    { id: "created", header: "Launched", cell: ({ row }) => <span title={row.original.created_at}>{formatDate(row.original.created_at)}</span> },
    { id: "duration", header: "Duration", cell: ({ row }) => formatDuration(runSeconds(row.original)) },
  ];

  return (
    <Page
      title="Runs"
      subtitle="Every pipeline run of this tenant, newest first."
      actions={
        t.can("launch") && (
          <Link className="btn btn-primary" to={t.href("/launch")}>
            Launch a pipeline
          </Link>
        )
      }
    >
      <Filters filters={filters} onChange={setFilters} />
      {runs.error && <ErrorMessage error={runs.error} />}
      {runs.isPending ? (
        <Loading label="Loading runs…" />
      ) : runs.data ? (
        <>
          <DataTable
            label="Runs"
            testId="runs-table"
            data={runs.data.items}
            columns={columns}
            getRowId={(r) => r.id}
            busy={runs.isFetching}
            empty={
              filters.status.length || filters.pipeline || filters.createdBy || filters.since || filters.until ? (
                <EmptyState title="No run matches these filters">Clear a filter to see more runs.</EmptyState>
              ) : (
                <EmptyState
                  title="No runs yet"
                  action={
                    t.can("launch") ? (
                      <Link className="btn btn-primary" to={t.href("/pipelines")}>
                        Choose a pipeline to launch
                      </Link>
                    ) : undefined
                  }
                >
                  Runs appear here once a pipeline is launched.
                </EmptyState>
              )
            }
          />
          {(cursors.length > 0 || runs.data.next_cursor) && (
            <CursorPager
              page={cursors.length + 1}
              hasPrevious={cursors.length > 0}
              hasNext={Boolean(runs.data.next_cursor)}
              onPrevious={() => setCursors(cursors.slice(0, -1))}
              onNext={() => runs.data?.next_cursor && setCursors([...cursors, runs.data.next_cursor])}
            />
          )}
          {anyActive(runs.data.items) && <p className="muted small live-note">Updating live while runs are active.</p>}
        </>
      ) : null}
    </Page>
  );
}
