// The lineage graph around a dataset: datasets and the activities (runs, uploads, imports)
// that read and made them, upstream on the left and downstream on the right (React Flow, laid
// out by dagre). Each node is a link: a dataset to its page, a pipeline run to the run page.
import "@xyflow/react/dist/style.css";
import { useQuery } from "@tanstack/react-query";
import { Background, Controls, Handle, type NodeProps, Position, ReactFlow } from "@xyflow/react";
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { api, unwrap } from "../../api/client";
import { EmptyState, ErrorMessage, Field, Loading, Notice, Section } from "../../components/ui";
import { type LineageFlowNode, sides, toFlow } from "./lineage";

function LineageNodeView({ data }: NodeProps<LineageFlowNode>) {
  const className = `lineage-node lineage-${data.kind}${data.root ? " lineage-root" : ""}${data.archived ? " lineage-archived" : ""}`;
  const body = (
    <>
      <span className="lineage-title">{data.title}</span>
      <span className="lineage-subtitle">{data.subtitle}</span>
    </>
  );
  return (
    <div className={className} data-testid="lineage-node" data-kind={data.kind}>
      <Handle type="target" position={Position.Left} isConnectable={false} />
      {data.href && !data.root ? (
        <Link to={data.href} className="lineage-link">
          {body}
        </Link>
      ) : (
        <span className="lineage-link" aria-current={data.root ? "page" : undefined}>
          {body}
        </span>
      )}
      <Handle type="source" position={Position.Right} isConnectable={false} />
    </div>
  );
}

const NODE_TYPES = { lineage: LineageNodeView };
const DEPTHS = [1, 2, 3, 5, 10];

export function LineageSection(props: { tenant: string; dataset: string }) {
  const [depth, setDepth] = useState(3);
  const lineage = useQuery({
    queryKey: ["dataset-lineage", props.tenant, props.dataset, depth],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/datasets/{dataset}/lineage", {
          params: { path: { tenant: props.tenant, dataset: props.dataset }, query: { depth } },
        }),
      ),
  });
  const flow = useMemo(() => {
    const href = (path: string) => `/t/${encodeURIComponent(props.tenant)}${path}`;
    return lineage.data ? toFlow(lineage.data, href) : null;
  }, [lineage.data, props.tenant]);
  const around = useMemo(() => (lineage.data ? sides(lineage.data) : null), [lineage.data]);
  const datasets = (ids: Set<string> | undefined) =>
    lineage.data?.nodes.filter((n) => n.kind === "dataset" && ids?.has(n.id)).length ?? 0;

  const depthPicker = (
    <div className="compact-field">
      <Field label="Steps">
        <select value={depth} onChange={(e) => setDepth(Number(e.target.value))}>
          {DEPTHS.map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </Field>
    </div>
  );
  return (
    <Section title="Lineage" actions={depthPicker} testId="lineage">
      {lineage.isPending && <Loading label="Loading lineage…" />}
      <ErrorMessage error={lineage.error} />
      {flow && lineage.data && lineage.data.nodes.length <= 1 && (
        <EmptyState title="No lineage recorded">
          No run or activity has read this dataset or made it from others yet. Pipeline runs that read it, and what they make, will show here.
        </EmptyState>
      )}
      {flow && lineage.data && lineage.data.nodes.length > 1 && (
        <>
          <p className="muted lineage-summary" data-testid="lineage-summary">
            {datasets(around?.upstream) + datasets(around?.downstream) > 0
              ? `${datasets(around?.upstream)} upstream and ${datasets(around?.downstream)} downstream datasets within ${depth} ${depth === 1 ? "step" : "steps"}. Upstream is on the left; click a node to open it.`
              : "No other dataset is linked to this one yet; the activity that made it is shown."}
          </p>
          {lineage.data.truncated && <Notice kind="warning">The graph is too large to show whole; it was cut short.</Notice>}
          <div
            className="lineage-canvas"
            data-testid="lineage-graph"
            // As tall as the graph needs (within bounds), so a small graph is not lost in space.
            style={{ height: Math.min(560, Math.max(200, flow.height + 80)) }}
          >
            <ReactFlow
              nodes={flow.nodes}
              edges={flow.edges}
              nodeTypes={NODE_TYPES}
              nodesDraggable={false}
              nodesConnectable={false}
              // Selectable keeps pointer events on the nodes, so their links take clicks.
              elementsSelectable
              fitView
              fitViewOptions={{ padding: 0.15, maxZoom: 1.1 }}
              minZoom={0.2}
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={16} color="#e3e7ee" />
              <Controls showInteractive={false} />
            </ReactFlow>
          </div>
        </>
      )}
    </Section>
  );
}
