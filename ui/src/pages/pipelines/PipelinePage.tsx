// One pipeline: where it comes from, its versions, and its params (the launch form's groups,
// with types, defaults, allowed values and help), and the way to launch it.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../../api/client";
import { type ColumnDef, DataTable } from "../../components/DataTable";
import { CopyButton, EmptyState, ErrorMessage, KeyValues, Loading, Page, Section } from "../../components/ui";
import { formatDate } from "../../format";
import { useTenant } from "../../session";
import { sourceOf } from "./PipelinesPage";
import { type Param, groupsOf } from "./paramsForm";
import "./pipelines.css";

type Version = Schemas["PipelineVersionPublic"];

function show(value: unknown): string {
  if (value === undefined || value === null || value === "") return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function ParamRow({ param }: { param: Param }) {
  const rules = [
    param.enum ? `one of ${param.enum.map(show).join(", ")}` : "",
    param.pattern ? `matches ${param.pattern}` : "",
    param.minimum !== undefined ? `≥ ${param.minimum}` : "",
    param.maximum !== undefined ? `≤ ${param.maximum}` : "",
    param.format ?? "",
  ].filter(Boolean);
  return (
    <tr>
      <td>
        <code>--{param.name}</code>
        {param.required && <span className="required-mark"> required</span>}
        {param.hidden && <span className="muted"> (hidden)</span>}
      </td>
      <td>
        {param.type ?? "string"}
        {rules.length > 0 && <div className="muted small">{rules.join("; ")}</div>}
      </td>
      <td className="mono">{show(param.default)}</td>
      <td>
        {param.description}
        {param.help_text && (
          <details className="param-help">
            <summary>Help</summary>
            <p>{param.help_text}</p>
          </details>
        )}
      </td>
    </tr>
  );
}

export function ParamsReference({ form }: { form: Schemas["ParamsForm"] }) {
  const groups = groupsOf(form);
  if (groups.length === 0) return <p className="muted">This pipeline declares no params.</p>;
  return (
    <div className="stack">
      {groups.map((group) => (
        <section key={group.name} className="param-group" aria-label={group.title}>
          <h3>{group.title}</h3>
          {group.description && <p className="muted">{group.description}</p>}
          <div className="table-wrap">
            <table className="table params-table">
              <thead>
                <tr>
                  <th scope="col">Param</th>
                  <th scope="col">Type</th>
                  <th scope="col">Default</th>
                  <th scope="col">Description</th>
                </tr>
              </thead>
              <tbody>
                {group.params.map((p) => (
                  <ParamRow key={p.name} param={p} />
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </div>
  );
}

export default function PipelinePage() {
  const t = useTenant();
  const { ref = "" } = useParams();
  const [search, setSearch] = useSearchParams();
  const chosen = search.get("version");
  const path = { tenant: t.slug, ref };
  const pipeline = useQuery({
    queryKey: ["pipeline", t.slug, ref],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/pipelines/{ref}", { params: { path } })),
  });
  const versions = useQuery({
    queryKey: ["pipeline-versions", t.slug, ref],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/pipelines/{ref}/versions", { params: { path } })),
  });
  const version = chosen ? Number(chosen) : pipeline.data?.latest_version;
  const schema = useQuery({
    queryKey: ["pipeline-schema", t.slug, ref, version],
    enabled: version !== undefined,
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/pipelines/{ref}/schema", { params: { path, query: { version: version ?? null } } })),
  });

  if (pipeline.isPending) return <Loading label="Loading the pipeline…" />;
  if (pipeline.error) return <ErrorMessage error={pipeline.error} />;
  const p = pipeline.data;
  const shownVersion = versions.data?.find((v) => v.version === version);
  const launchHref = t.href(`/launch?pipeline=${encodeURIComponent(p.name)}&version=${version ?? ""}`);

  const columns: ColumnDef<Version>[] = [
    {
      id: "version",
      header: "Version",
      cell: ({ row }) =>
        row.original.version === version ? (
          <strong aria-current="true">v{row.original.version} (shown)</strong>
        ) : (
          <button type="button" className="linklike" onClick={() => setSearch({ version: String(row.original.version) })}>
            v{row.original.version}
          </button>
        ),
    },
    { id: "revision", header: "Revision", cell: ({ row }) => <code>{row.original.revision}</code> },
    { id: "commit", header: "Commit", cell: ({ row }) => (row.original.commit ? <code title={row.original.commit}>{row.original.commit.slice(0, 12)}</code> : "—") },
    { id: "samplesheet", header: "Samplesheet param", cell: ({ row }) => (row.original.samplesheet_param ? <code>--{row.original.samplesheet_param}</code> : "—") },
    { id: "created", header: "Added", cell: ({ row }) => `${formatDate(row.original.created_at)} by ${row.original.created_by}` },
  ];

  return (
    <Page
      title={p.name}
      subtitle={p.description || undefined}
      actions={
        <>
          <Link className="btn btn-ghost" to={t.href("/pipelines")}>
            ← All pipelines
          </Link>
          {t.can("launch") && (
            <Link className="btn btn-primary" to={launchHref}>
              Launch v{version}
            </Link>
          )}
        </>
      }
    >
      <Section title="About">
        <KeyValues
          items={[
            ["Engine", p.engine],
            ["Source", <span className="row" key="src"><code>{sourceOf(p)}</code>{p.repository && <CopyButton text={p.repository} label="Copy URL" />}</span>],
            ["Latest version", `v${p.latest_version}`],
            ["Added", `${formatDate(p.created_at)} by ${p.created_by}`],
            ...(shownVersion?.script
              ? ([["Command", <code key="cmd">{((shownVersion.script as { command?: string[] }).command ?? []).join(" ")}</code>]] as Array<[string, ReactNode]>)
              : []),
          ]}
        />
      </Section>
      <Section title="Versions" testId="versions">
        {versions.error ? (
          <ErrorMessage error={versions.error} />
        ) : versions.isPending ? (
          <Loading />
        ) : (
          <DataTable label="Versions" data={[...versions.data].reverse()} columns={columns} getRowId={(v) => String(v.version)} empty={<EmptyState title="No versions" />} />
        )}
      </Section>
      <Section title={`Params of v${version ?? ""}`} testId="params">
        {schema.error ? (
          <ErrorMessage error={schema.error} />
        ) : schema.isPending ? (
          <Loading label="Loading the params…" />
        ) : (
          <>
            {schema.data.samplesheet_param && (
              <p className="muted">
                <code>--{schema.data.samplesheet_param}</code> takes a samplesheet, which Mantle writes from the datasets you pick at launch
                {(schema.data.samplesheet_columns ?? []).length > 0 && <> (columns: {(schema.data.samplesheet_columns ?? []).map((c) => String(c.name)).join(", ")})</>}.
              </p>
            )}
            {(schema.data.inputs ?? []).length > 0 && (
              <p className="muted">
                Inputs:{" "}
                {(schema.data.inputs ?? [])
                  .map((i) => `${String(i.name)} (${((i.data_types as string[] | undefined) ?? []).join(", ") || "any type"})`)
                  .join("; ")}
              </p>
            )}
            <ParamsReference form={schema.data} />
          </>
        )}
      </Section>
    </Page>
  );
}
