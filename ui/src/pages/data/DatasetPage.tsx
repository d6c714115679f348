// One dataset: its header (name, type, id, archived), properties (editable with the version
// check), files with download links, version history with diffs, the lineage graph, and
// archive / restore for those who may write.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../../api/client";
import { Button, CopyButton, EmptyState, ErrorMessage, KeyValues, Loading, Notice, Page, Section } from "../../components/ui";
import { formatBytes, formatDate, plural } from "../../format";
import { useTenant } from "../../session";
import { HistorySection } from "./HistorySection";
import { LineageSection } from "./LineageSection";
import { PropertiesSection } from "./PropertiesSection";
import "./data.css";

type Dataset = Schemas["DatasetPublic"];

export default function DatasetPage() {
  const { dataset: ref = "" } = useParams();
  const tenant = useTenant();
  const client = useQueryClient();
  const dataset = useQuery({
    queryKey: ["dataset", tenant.slug, ref],
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/datasets/{dataset}", { params: { path: { tenant: tenant.slug, dataset: ref } } })),
  });
  const typeName = dataset.data?.data_type;
  const dataType = useQuery({
    queryKey: ["data-type", tenant.slug, typeName],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/data-types/{data_type}", {
          params: { path: { tenant: tenant.slug, data_type: typeName ?? "" } },
        }),
      ),
    enabled: Boolean(typeName),
    staleTime: 60_000,
  });

  const archive = useMutation({
    mutationFn: async ({ action, version }: { action: "archive" | "restore"; version: number }) => {
      const params = { path: { tenant: tenant.slug, dataset: ref }, header: { "if-match": `"${version}"` } };
      return action === "archive"
        ? unwrap(api.POST("/api/v1/tenants/{tenant}/datasets/{dataset}/archive", { params }))
        : unwrap(api.POST("/api/v1/tenants/{tenant}/datasets/{dataset}/restore", { params }));
    },
    onSuccess: (updated) => {
      client.setQueryData(["dataset", tenant.slug, ref], updated);
      void client.invalidateQueries({ queryKey: ["dataset-versions", tenant.slug, ref] });
      void client.invalidateQueries({ queryKey: ["datasets", tenant.slug] });
    },
    onError: () => void client.invalidateQueries({ queryKey: ["dataset", tenant.slug, ref] }),
  });

  if (dataset.isPending) return <Loading label="Loading the dataset…" />;
  if (dataset.error || !dataset.data) {
    return (
      <Page title="Dataset">
        <ErrorMessage error={dataset.error} />
        <Link to={tenant.href("/data")}>Back to the data</Link>
      </Page>
    );
  }
  const d = dataset.data;
  const canWrite = tenant.can("write");
  const back = (
    <Link className="btn btn-ghost" to={tenant.href(`/data/${encodeURIComponent(d.data_type)}`)}>
      ← All {d.data_type}
    </Link>
  );
  const actions = canWrite ? (
    <>
      {d.archived ? (
        <Button busy={archive.isPending} onClick={() => archive.mutate({ action: "restore", version: d.version })}>
          Restore
        </Button>
      ) : (
        <Button variant="danger" busy={archive.isPending} onClick={() => archive.mutate({ action: "archive", version: d.version })}>
          Archive
        </Button>
      )}
      {tenant.can("launch") && !d.archived && (
        <Link className="btn btn-primary" to={`${tenant.href("/launch")}?datasets=${encodeURIComponent(d.short_id)}`}>
          Launch pipeline with this
        </Link>
      )}
      {back}
    </>
  ) : (
    back
  );

  return (
    <Page
      title={d.name}
      subtitle={
        <span className="dataset-subtitle">
          <Link to={tenant.href(`/data/${encodeURIComponent(d.data_type)}`)}>{d.data_type}</Link>
          <span className="mono" data-testid="dataset-id">
            {d.short_id}
          </span>
          <CopyButton text={d.short_id} label="Copy id" />
          <span className="badge badge-neutral">version {d.version}</span>
          {d.archived ? (
            <span className="badge badge-danger" data-testid="dataset-status">
              archived
            </span>
          ) : (
            <span className="badge badge-success" data-testid="dataset-status">
              active
            </span>
          )}
        </span>
      }
      actions={actions || undefined}
    >
      {d.archived && (
        <Notice kind="warning">This dataset is archived: it is hidden from lists and cannot be picked as a pipeline input. Its files and history are kept.</Notice>
      )}
      <ErrorMessage error={archive.error} />
      <div className="dataset-grid">
        <div className="stack">
          <PropertiesSection
            key={`${d.short_id}`}
            tenant={tenant.slug}
            dataset={d}
            defs={dataType.data?.properties ?? []}
            canEdit={canWrite}
          />
          <FilesSection tenant={tenant.slug} dataset={d} />
        </div>
        <div className="stack">
          <Section title="About">
            <KeyValues
              items={[
                ["id", <span className="mono">{d.id}</span>],
                ["origin", d.origin.replace("_", " ")],
                ["created", `${formatDate(d.created_at)} by ${d.created_by}`],
                ["last changed", `${formatDate(d.updated_at)} by ${d.updated_by}`],
                ["data type version", String(d.data_type_version)],
              ]}
            />
          </Section>
          <HistorySection tenant={tenant.slug} dataset={d.short_id} />
        </div>
      </div>
      <LineageSection tenant={tenant.slug} dataset={d.short_id} />
    </Page>
  );
}

function FilesSection({ tenant, dataset }: { tenant: string; dataset: Dataset }) {
  const links = useQuery({
    queryKey: ["dataset-downloads", tenant, dataset.short_id, dataset.version],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/datasets/{dataset}/download", {
          params: { path: { tenant, dataset: dataset.short_id } },
        }),
      ),
    enabled: dataset.files.length > 0,
    staleTime: 30 * 60_000, // the links are valid for an hour
  });
  const total = dataset.files.reduce((sum, f) => sum + (f.size ?? 0), 0);
  return (
    <Section title={`Files (${dataset.files.length})`} testId="files">
      {dataset.files.length === 0 ? (
        <EmptyState title="No files">This dataset only holds properties.</EmptyState>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" aria-label="Files">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Stored</th>
                  <th scope="col">
                    <span className="visually-hidden">Download</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {dataset.files.map((f, i) => {
                  const link = links.data?.[i];
                  return (
                    <tr key={f.uri}>
                      <td>
                        <span className="file-name" title={f.uri}>
                          {f.name}
                        </span>
                      </td>
                      <td className="num nowrap">{formatBytes(link?.size ?? f.size)}</td>
                      <td className="muted">{f.storage === "stored" ? "in Mantle" : "in place (read bucket)"}</td>
                      <td>
                        {link ? (
                          <a href={link.url} download={f.name} aria-label={`Download ${f.name}`}>
                            Download
                          </a>
                        ) : links.isPending ? (
                          <span className="muted">…</span>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p className="muted files-total">
            {plural(dataset.files.length, "file")}, {formatBytes(total)} in total. Download links are valid for an hour.
          </p>
          <ErrorMessage error={links.error} title="Download links" />
        </>
      )}
    </Section>
  );
}
