// Home: what happened lately in this tenant (runs with their status, datasets) and the usual
// next steps. Each empty list says what to do to fill it.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import { api, unwrap } from "../../api/client";
import { EmptyState, ErrorMessage, Loading, Page, Section, StatusBadge } from "../../components/ui";
import { formatDate } from "../../format";
import { useMe, useTenant } from "../../session";
import "./home.css";

const RECENT = 5;
const ACTIVE = new Set(["SUBMITTED", "QUEUED", "PENDING", "RUNNING"]);

export default function HomePage() {
  const t = useTenant();
  const me = useMe();
  const runs = useQuery({
    queryKey: ["runs", t.slug, "recent"],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/runs", { params: { path: { tenant: t.slug }, query: { limit: RECENT } } })),
    // Live while something runs.
    refetchInterval: (query) => (query.state.data?.items.some((r) => ACTIVE.has(r.status.toUpperCase())) ? 5000 : false),
  });
  const datasets = useQuery({
    queryKey: ["datasets", t.slug, "recent"],
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/datasets", { params: { path: { tenant: t.slug }, query: { limit: RECENT, sort: "-created_at" } } })),
  });
  const canWrite = t.can("write");
  const canLaunch = t.can("launch");
  const first = me.data?.user.name?.split(" ")[0];

  return (
    <Page
      title={t.tenant?.name ?? t.slug}
      subtitle={
        <>
          {first ? `Welcome back, ${first}.` : "Welcome."} You are {t.role === "admin" || t.role === "owner" ? "an" : "a"}{" "}
          <strong>{t.role}</strong> here.
        </>
      }
    >
      {(canWrite || canLaunch) && (
        <nav className="quick-actions" aria-label="Quick actions" data-testid="quick-actions">
          {canWrite && (
            <Link className="quick-action" to={t.href("/upload")}>
              <strong>Upload data</strong>
              <span>Drop FASTQ files or whole folders; they go straight to storage.</span>
            </Link>
          )}
          {canLaunch && (
            <Link className="quick-action" to={t.href("/pipelines")}>
              <strong>Launch a pipeline</strong>
              <span>Pick a pipeline, choose inputs and fill in its form.</span>
            </Link>
          )}
          {canWrite && (
            <Link className="quick-action" to={t.href("/import")}>
              <strong>Import from S3</strong>
              <span>Catalogue files already in your read buckets.</span>
            </Link>
          )}
        </nav>
      )}
      <div className="grid-2">
        <Section title="Recent runs" testId="recent-runs" actions={<Link to={t.href("/runs")}>All runs →</Link>}>
          {runs.isPending ? (
            <Loading />
          ) : runs.error ? (
            <ErrorMessage error={runs.error} />
          ) : runs.data.items.length === 0 ? (
            <EmptyState
              title="No runs yet"
              action={
                canLaunch ? (
                  <Link className="btn btn-primary" to={t.href("/pipelines")}>
                    Launch a pipeline
                  </Link>
                ) : undefined
              }
            >
              {canLaunch
                ? "Launch a pipeline on your data — its runs, their status and outputs show up here."
                : "When members launch pipelines, their runs show up here."}
            </EmptyState>
          ) : (
            <ul className="recent-list">
              {runs.data.items.map((run) => (
                <RecentItem
                  key={run.id}
                  href={t.href(`/runs/${encodeURIComponent(run.short_id)}`)}
                  title={run.name || run.short_id}
                  meta={`${run.short_id} · ${run.pipeline} · ${run.created_by} · ${formatDate(run.created_at)}`}
                  side={<StatusBadge status={run.status} />}
                />
              ))}
            </ul>
          )}
        </Section>
        <Section title="Recent datasets" testId="recent-datasets" actions={<Link to={t.href("/data")}>All data →</Link>}>
          {datasets.isPending ? (
            <Loading />
          ) : datasets.error ? (
            <ErrorMessage error={datasets.error} />
          ) : datasets.data.items.length === 0 ? (
            <EmptyState
              title="No datasets yet"
              action={
                canWrite ? (
                  <span className="row empty-actions">
                    <Link className="btn btn-primary" to={t.href("/upload")}>
                      Upload data
                    </Link>
                    <Link className="btn" to={t.href("/import")}>
                      Import from S3
                    </Link>
                  </span>
                ) : undefined
              }
            >
              {canWrite
                ? "Upload FASTQ files or import them from your bucket — each sample becomes a dataset you can search and launch on."
                : "When members upload or import data, the datasets show up here."}
            </EmptyState>
          ) : (
            <ul className="recent-list">
              {datasets.data.items.map((ds) => (
                <RecentItem
                  key={ds.id}
                  href={t.href(`/datasets/${encodeURIComponent(ds.short_id)}`)}
                  title={ds.name}
                  meta={`${ds.short_id} · ${ds.created_by} · ${formatDate(ds.created_at)}`}
                  side={<span className="badge badge-neutral">{ds.data_type}</span>}
                />
              ))}
            </ul>
          )}
        </Section>
      </div>
    </Page>
  );
}

/** A line of a recent list: what (a link), who and when, and its status or kind. */
function RecentItem(props: { href: string; title: string; meta: string; side: ReactNode }) {
  return (
    <li>
      <Link className="recent-title" to={props.href}>
        {props.title}
      </Link>
      <span className="recent-meta">{props.meta}</span>
      <span className="recent-side">{props.side}</span>
    </li>
  );
}
