// A dataset's name, properties and tags: shown, and for writers editable with the version
// check (If-Match). A stale edit (409) says so, shows the user's values beside the newer ones
// and lets them apply theirs on top of the newer version, or drop them.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useState } from "react";
import { ApiError, api, unwrap, type Schemas } from "../../api/client";
import { Button, ErrorMessage, Field, KeyValues, Notice, Section } from "../../components/ui";
import { formatDate } from "../../format";
import { type ConflictRow, type Draft, type Patch, changes, conflictRows, draftOf, editableKeys, isEmptyPatch } from "./edit";
import { formatValue } from "./values";

type Dataset = Schemas["DatasetPublic"];
type PropertyDef = Schemas["PropertyDef"];

type Conflict = { latest: Dataset; patch: Patch; rows: ConflictRow[] };

export function PropertiesSection(props: { tenant: string; dataset: Dataset; defs: PropertyDef[]; canEdit: boolean }) {
  const { dataset, defs } = props;
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [base, setBase] = useState<Dataset>(dataset);
  const [draft, setDraft] = useState<Draft>(() => draftOf(dataset, defs));
  const [problem, setProblem] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [saved, setSaved] = useState(false);

  const startEditing = () => {
    setBase(dataset);
    setDraft(draftOf(dataset, defs));
    setProblem(null);
    setConflict(null);
    setSaved(false);
    setEditing(true);
  };

  const save = useMutation({
    mutationFn: async ({ patch, version }: { patch: Patch; version: number }) =>
      unwrap(
        api.PATCH("/api/v1/tenants/{tenant}/datasets/{dataset}", {
          params: { path: { tenant: props.tenant, dataset: dataset.short_id }, header: { "if-match": `"${version}"` } },
          body: patch,
        }),
      ),
    onSuccess: (updated) => {
      client.setQueryData(["dataset", props.tenant, dataset.short_id], updated);
      void client.invalidateQueries({ queryKey: ["dataset-versions", props.tenant, dataset.short_id] });
      void client.invalidateQueries({ queryKey: ["datasets", props.tenant] });
      setConflict(null);
      setEditing(false);
      setSaved(true);
    },
    onError: async (error, { patch }) => {
      if (!(error instanceof ApiError) || error.status !== 409) return;
      // Someone changed it meanwhile: fetch what it is now and show it beside the user's values.
      const latest = await unwrap(
        api.GET("/api/v1/tenants/{tenant}/datasets/{dataset}", {
          params: { path: { tenant: props.tenant, dataset: dataset.short_id } },
        }),
      );
      client.setQueryData(["dataset", props.tenant, dataset.short_id], latest);
      void client.invalidateQueries({ queryKey: ["dataset-versions", props.tenant, dataset.short_id] });
      setConflict({ latest, patch, rows: conflictRows(base, latest, patch) });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    let patch: Patch;
    try {
      patch = changes(base, draft, defs);
    } catch (e) {
      setProblem((e as Error).message);
      return;
    }
    if (isEmptyPatch(patch)) {
      setEditing(false);
      return;
    }
    save.mutate({ patch, version: base.version });
  };

  const applyMine = () => {
    if (!conflict) return;
    setBase(conflict.latest);
    save.mutate({ patch: conflict.patch, version: conflict.latest.version });
  };
  const discardMine = () => {
    setConflict(null);
    setEditing(false);
    save.reset();
  };

  const keys = editableKeys(defs, dataset.properties);
  const edit = props.canEdit && !editing && (
    <Button onClick={startEditing}>Edit properties</Button>
  );

  return (
    <Section title="Properties" actions={edit || undefined} testId="properties">
      {saved && !editing && <Notice kind="success">Saved as version {dataset.version}.</Notice>}
      {!editing && (
        <KeyValues
          items={[
            ...keys.map((k): [string, ReactNode] => [k, <span className="prop-value">{formatValue(dataset.properties[k])}</span>]),
            ["tags", dataset.tags.length ? <Tags tags={dataset.tags} /> : <span className="muted">none</span>],
          ]}
        />
      )}
      {editing && (
        <form onSubmit={submit} className="edit-form" aria-label="Edit dataset">
          {conflict ? (
            <ConflictNotice conflict={conflict} baseVersion={base.version} busy={save.isPending} onApply={applyMine} onDiscard={discardMine} />
          ) : (
            <>
              <Field label="Name">
                <input type="text" value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required />
              </Field>
              <div className="edit-grid">
                {keys.map((key) => (
                  <PropertyField
                    key={key}
                    name={key}
                    def={defs.find((d) => d.name === key)}
                    value={draft.properties[key] ?? ""}
                    onChange={(v) => setDraft({ ...draft, properties: { ...draft.properties, [key]: v } })}
                  />
                ))}
              </div>
              <Field label="Tags" hint="Comma-separated">
                <input type="text" value={draft.tags} onChange={(e) => setDraft({ ...draft, tags: e.target.value })} />
              </Field>
              {problem && <ErrorMessage error={new Error(problem)} />}
              {save.error && !(save.error instanceof ApiError && save.error.status === 409) && <ErrorMessage error={save.error} />}
              <div className="row">
                <Button variant="primary" type="submit" busy={save.isPending}>
                  Save
                </Button>
                <Button onClick={() => setEditing(false)}>Cancel</Button>
                <span className="muted">Editing version {base.version}</span>
              </div>
            </>
          )}
        </form>
      )}
    </Section>
  );
}

function ConflictNotice(props: { conflict: Conflict; baseVersion: number; busy: boolean; onApply: () => void; onDiscard: () => void }) {
  const { latest, rows } = props.conflict;
  return (
    <div className="conflict" data-testid="conflict">
      <div className="alert alert-warning" role="alert">
        <strong>Not saved: this dataset changed while you were editing.</strong> You started from version {props.baseVersion}; it
        is now at version {latest.version} (changed by {latest.updated_by} at {formatDate(latest.updated_at)}). Compare your values
        with the newer ones, then apply yours on top of version {latest.version} or keep the newer values.
      </div>
      <div className="table-wrap">
        <table className="table" aria-label="Your values and the newer ones">
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">When you started (v{props.baseVersion})</th>
              <th scope="col">Now (v{latest.version})</th>
              <th scope="col">Yours</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.field} className={r.theirs !== r.base ? "conflict-changed" : undefined}>
                <th scope="row">{r.field}</th>
                <td className="muted">{r.base}</td>
                <td data-testid={`theirs-${r.field}`}>
                  {r.theirs}
                  {r.theirs !== r.base && <span className="badge badge-info conflict-badge">changed</span>}
                </td>
                <td data-testid={`yours-${r.field}`}>{r.yours}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row">
        <Button variant="primary" busy={props.busy} onClick={props.onApply}>
          Apply my values to version {latest.version}
        </Button>
        <Button onClick={props.onDiscard}>Keep the newer values</Button>
      </div>
    </div>
  );
}

function PropertyField(props: { name: string; def: PropertyDef | undefined; value: string; onChange: (v: string) => void }) {
  const { def } = props;
  const label = `${props.name}${def?.required ? " (required)" : ""}`;
  const hint = [def?.description, def ? typeHint(def) : "not declared by the data type"].filter(Boolean).join(" · ");
  if (def?.enum || def?.type === "boolean") {
    const options = def.enum ? def.enum.map(String) : ["true", "false"];
    return (
      <Field label={label} hint={hint}>
        <select value={props.value} onChange={(e) => props.onChange(e.target.value)}>
          <option value="">{def.required ? "Choose…" : "(not set)"}</option>
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </Field>
    );
  }
  const type = def?.type === "integer" || def?.type === "float" ? "number" : "text";
  return (
    <Field label={label} hint={hint}>
      <input type={type} step={def?.type === "float" ? "any" : undefined} value={props.value} onChange={(e) => props.onChange(e.target.value)} />
    </Field>
  );
}

function typeHint(def: PropertyDef): string {
  if (def.type === "list") return `list of ${def.items ?? "values"}, comma-separated`;
  if (def.type === "file_list") return "files, comma-separated";
  if (def.type === "datetime") return "date or time (ISO 8601)";
  if (def.type === "dataset") return "a dataset id (DS-000042)";
  return def.type;
}

export function Tags({ tags }: { tags: string[] }) {
  return (
    <span className="tags">
      {tags.map((t) => (
        <span key={t} className="tag">
          {t}
        </span>
      ))}
    </span>
  );
}
