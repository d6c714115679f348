// A dataset's version history, newest first, each version with what changed from the one
// before it (properties, files, tags, name, archived).
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { ErrorMessage, Loading, Section } from "../../components/ui";
import { formatBytes, formatDate } from "../../format";
import { type VersionDiff, diffVersions, isEmptyDiff } from "./diff";
import { formatValue } from "./values";

const CHANGE_LABELS: Record<string, string> = {
  created: "Created",
  updated: "Edited",
  archived: "Archived",
  restored: "Restored",
};

export function HistorySection(props: { tenant: string; dataset: string }) {
  const versions = useQuery({
    queryKey: ["dataset-versions", props.tenant, props.dataset],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/datasets/{dataset}/versions", {
          params: { path: { tenant: props.tenant, dataset: props.dataset } },
        }),
      ),
  });
  const list = [...(versions.data ?? [])].sort((a, b) => a.version - b.version);
  return (
    <Section title="History" testId="history">
      {versions.isPending && <Loading label="Loading history…" />}
      <ErrorMessage error={versions.error} />
      <ol className="history" reversed>
        {list
          .map((v, i) => ({ v, diff: diffVersions(i > 0 ? list[i - 1] : null, v) }))
          .reverse()
          .map(({ v, diff }) => (
            <li key={v.version} className="history-item" data-testid={`version-${v.version}`}>
              <div className="history-head">
                <span className="badge badge-neutral">v{v.version}</span>
                <strong>{CHANGE_LABELS[v.change] ?? v.change}</strong>
                <span className="muted">
                  by {v.created_by} · <span title={v.created_at}>{formatDate(v.created_at)}</span>
                </span>
              </div>
              <DiffView diff={diff} first={v.version === list[0]?.version} />
            </li>
          ))}
      </ol>
    </Section>
  );
}

export function DiffView({ diff, first }: { diff: VersionDiff; first: boolean }) {
  if (isEmptyDiff(diff)) return <p className="muted diff-none">{first ? "Created without properties, files or tags." : "No visible change."}</p>;
  return (
    <ul className="diff" aria-label="Changes">
      {diff.name && (
        <li className="diff-changed">
          <span className="diff-mark">~</span> name: <del>{diff.name.before}</del> → <ins>{diff.name.after}</ins>
        </li>
      )}
      {diff.archived && (
        <li className="diff-changed">
          <span className="diff-mark">~</span> {diff.archived.after ? "archived" : "restored from the archive"}
        </li>
      )}
      {diff.properties.map((c) => (
        <li key={`p-${c.key}`} className={`diff-${c.kind}`}>
          <span className="diff-mark">{c.kind === "added" ? "+" : c.kind === "removed" ? "−" : "~"}</span> {c.key}:{" "}
          {c.kind === "added" && <ins>{formatValue(c.after)}</ins>}
          {c.kind === "removed" && <del>{formatValue(c.before)}</del>}
          {c.kind === "changed" && (
            <>
              <del>{formatValue(c.before)}</del> → <ins>{formatValue(c.after)}</ins>
            </>
          )}
        </li>
      ))}
      {diff.files.map((f) => (
        <li key={`f-${f.uri}`} className={`diff-${f.kind}`}>
          <span className="diff-mark">{f.kind === "added" ? "+" : f.kind === "removed" ? "−" : "~"}</span> file {f.name}
          {f.kind === "changed"
            ? ` (${formatBytes(f.before?.size)} → ${formatBytes(f.after?.size)})`
            : ` (${formatBytes((f.after ?? f.before)?.size)})`}
        </li>
      ))}
      {diff.tagsAdded.map((t) => (
        <li key={`t+${t}`} className="diff-added">
          <span className="diff-mark">+</span> tag <ins>{t}</ins>
        </li>
      ))}
      {diff.tagsRemoved.map((t) => (
        <li key={`t-${t}`} className="diff-removed">
          <span className="diff-mark">−</span> tag <del>{t}</del>
        </li>
      ))}
    </ul>
  );
}
