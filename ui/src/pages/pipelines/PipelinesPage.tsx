// Pipelines of the tenant: the built-in ones and those registered from git, with their latest
// version; "Add pipeline" registers one from a git URL at a revision (git may take a while:
// the dialog says so while it works, and shows git's own message when it fails).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, unwrap, type Schemas } from "../../api/client";
import { type ColumnDef, DataTable } from "../../components/DataTable";
import { Button, Dialog, EmptyState, ErrorMessage, Field, Loading, Page } from "../../components/ui";
import { usePipelines } from "../../hooks/tenantLists";
import { formatDate } from "../../format";
import { useTenant } from "../../session";
import "./pipelines.css";

type Pipeline = Schemas["PipelinePublic"];

export function sourceOf(p: Pick<Pipeline, "builtin" | "repository" | "revision" | "commit">): string {
  if (p.builtin) return "built into Mantle";
  const commit = p.commit ? ` (${p.commit.slice(0, 7)})` : "";
  return `${p.repository}@${p.revision}${commit}`;
}

function AddPipeline({ onClose }: { onClose: () => void }) {
  const t = useTenant();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [repository, setRepository] = useState("");
  const [revision, setRevision] = useState("main");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const register = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/tenants/{tenant}/pipelines", {
          params: { path: { tenant: t.slug } },
          body: { repository: repository.trim(), revision: revision.trim() || "main", name: name.trim() || null, description },
        }),
      ),
    onSuccess: async (version) => {
      await queryClient.invalidateQueries({ queryKey: ["pipelines", t.slug] });
      onClose();
      navigate(t.href(`/pipelines/${encodeURIComponent(version.pipeline)}`));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!register.isPending) register.mutate();
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="Add pipeline">
      <Field label="Git repository" hint="An https:// URL (or a path on the server) holding main.nf and nextflow_schema.json, or a mantle.yml.">
        <input type="text" value={repository} required spellCheck={false} placeholder="https://github.com/nf-core/rnaseq" onChange={(e) => setRepository(e.target.value)} />
      </Field>
      <div className="grid-2">
        <Field label="Revision" hint="A tag, branch or commit; it is pinned to its commit now.">
          <input type="text" value={revision} onChange={(e) => setRevision(e.target.value)} />
        </Field>
        <Field label="Name" hint="Default: the repository's name. An existing name gets a new version.">
          <input type="text" value={name} pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,99}" onChange={(e) => setName(e.target.value)} />
        </Field>
      </div>
      <Field label="Description (optional)">
        <input type="text" value={description} maxLength={2000} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      {register.isPending && (
        <div className="register-busy" role="status">
          <span className="spinner" aria-hidden="true" /> Fetching {repository || "the repository"} at {revision || "main"} and reading its
          schema… large repositories take a minute.
        </div>
      )}
      <ErrorMessage error={register.error} title="Could not add the pipeline" />
      <div className="row dialog-actions">
        <Button type="submit" variant="primary" busy={register.isPending}>
          Add pipeline
        </Button>
        <Button onClick={onClose} disabled={register.isPending}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

export default function PipelinesPage() {
  const t = useTenant();
  const [adding, setAdding] = useState(false);
  const pipelines = usePipelines();
  const columns: ColumnDef<Pipeline>[] = [
    {
      id: "name",
      header: "Name",
      cell: ({ row }) => (
        <div>
          <Link to={t.href(`/pipelines/${encodeURIComponent(row.original.name)}`)} className="strong-link">
            {row.original.name}
          </Link>
          {row.original.description && <div className="muted clamp">{row.original.description}</div>}
        </div>
      ),
    },
    { id: "engine", header: "Engine", cell: ({ row }) => <span className="badge badge-neutral">{row.original.engine}</span> },
    { id: "version", header: "Latest version", cell: ({ row }) => `v${row.original.latest_version}` },
    { id: "source", header: "Source", cell: ({ row }) => <code className="source">{sourceOf(row.original)}</code> },
    { id: "updated", header: "Updated", cell: ({ row }) => <span className="nowrap-cell" title={`added ${formatDate(row.original.created_at)} by ${row.original.created_by}`}>{formatDate(row.original.updated_at)}</span> },
    {
      id: "actions",
      header: () => <span className="visually-hidden">Actions</span>,
      cell: ({ row }) =>
        t.can("launch") ? (
          <Link className="btn btn-secondary" to={t.href(`/launch?pipeline=${encodeURIComponent(row.original.name)}`)} aria-label={`Launch ${row.original.name}`}>
            Launch
          </Link>
        ) : null,
    },
  ];
  return (
    <Page
      title="Pipelines"
      subtitle="Nextflow pipelines from git, and script pipelines; launch one on datasets of the catalog."
      actions={
        t.can("write") && (
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add pipeline
          </Button>
        )
      }
    >
      {pipelines.isPending ? (
        <Loading label="Loading pipelines…" />
      ) : pipelines.error ? (
        <ErrorMessage error={pipelines.error} />
      ) : (
        <DataTable
          label="Pipelines"
          testId="pipelines-table"
          data={pipelines.data}
          columns={columns}
          getRowId={(p) => p.id}
          empty={
            <EmptyState title="No pipelines yet">Add a Nextflow pipeline from its git repository with “Add pipeline”.</EmptyState>
          }
        />
      )}
      <Dialog open={adding} title="Add a pipeline from git" onClose={() => setAdding(false)}>
        <AddPipeline onClose={() => setAdding(false)} />
      </Dialog>
    </Page>
  );
}
