// The lineage answer (datasets and activities, edges dataset -> activity -> dataset) as a
// React Flow graph laid out left to right by dagre: upstream on the left, downstream on the
// right, the dataset the page is about highlighted.
import dagre from "@dagrejs/dagre";
import { type Edge, MarkerType, type Node } from "@xyflow/react";
import type { Schemas } from "../../api/client";

type LineageGraph = Schemas["LineageGraph"];
type LineageNode = Schemas["LineageNode"];

export const NODE_WIDTH = 210;
export const NODE_HEIGHT = 64;

export type LineageNodeData = {
  kind: "dataset" | "activity";
  title: string;
  subtitle: string;
  root: boolean;
  archived: boolean;
  /** Where a click goes: the dataset's page, or the run's page for a pipeline run. */
  href: string | null;
};

export type LineageFlowNode = Node<LineageNodeData, "lineage">;

/** The run an activity stands for: pipeline runs record `run_number` (shown as run-N, the
 * run's short id) and `run_id` in their details. */
export function runOf(node: LineageNode): string | null {
  const details = (node.details ?? {}) as Record<string, unknown>;
  if (typeof details.run_number === "number" && Number.isInteger(details.run_number)) return `run-${details.run_number}`;
  const run = details.run_id;
  return typeof run === "string" && run ? run : null;
}

const ACTIVITY_LABELS: Record<string, string> = {
  pipeline_run: "Pipeline run",
  upload: "Upload",
  import: "Import",
  manual: "Manual activity",
};

function activityTitle(node: LineageNode): string {
  const details = (node.details ?? {}) as Record<string, unknown>;
  const kind = ACTIVITY_LABELS[node.activity_kind ?? ""] ?? node.activity_kind ?? "Activity";
  const name = details.run_name ?? details.pipeline ?? details.name;
  return typeof name === "string" && name ? `${kind}: ${name}` : kind;
}

export function toFlow(
  graph: LineageGraph,
  href: (path: string) => string,
): { nodes: LineageFlowNode[]; edges: Edge[]; height: number } {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 60, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(graph.nodes.map((n) => n.id));
  for (const n of graph.nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const edges = graph.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
  for (const e of edges) g.setEdge(e.source, e.target);
  dagre.layout(g);

  const nodes: LineageFlowNode[] = graph.nodes.map((n) => {
    const at = g.node(n.id);
    const run = n.kind === "activity" ? runOf(n) : null;
    const data: LineageNodeData =
      n.kind === "dataset"
        ? {
            kind: "dataset",
            title: n.name || n.id,
            subtitle: [n.id, n.data_type].filter(Boolean).join(" · "),
            root: n.id === graph.root,
            archived: Boolean(n.archived),
            href: href(`/datasets/${encodeURIComponent(n.id)}`),
          }
        : {
            kind: "activity",
            title: activityTitle(n),
            subtitle: n.created_at ? n.created_at.slice(0, 10) : "",
            root: false,
            archived: false,
            href: run ? href(`/runs/${encodeURIComponent(run)}`) : null,
          };
    return {
      id: n.id,
      type: "lineage",
      position: { x: at.x - NODE_WIDTH / 2, y: at.y - NODE_HEIGHT / 2 },
      data,
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
    };
  });
  return {
    nodes,
    edges: edges.map((e) => ({
      id: `${e.source}->${e.target}`,
      source: e.source,
      target: e.target,
      markerEnd: { type: MarkerType.ArrowClosed, width: 16, height: 16, color: "#8a94a6" },
    })),
    height: g.graph().height ?? NODE_HEIGHT,
  };
}

/** Datasets before the root (upstream) and after it (downstream), following the edges. */
export function sides(graph: LineageGraph): { upstream: Set<string>; downstream: Set<string> } {
  const walk = (from: string, next: (id: string) => string[]) => {
    const seen = new Set<string>();
    const todo = [from];
    while (todo.length) {
      for (const n of next(todo.pop() as string)) {
        if (!seen.has(n)) {
          seen.add(n);
          todo.push(n);
        }
      }
    }
    return seen;
  };
  const out = (id: string) => graph.edges.filter((e) => e.source === id).map((e) => e.target);
  const inn = (id: string) => graph.edges.filter((e) => e.target === id).map((e) => e.source);
  return { upstream: walk(graph.root, inn), downstream: walk(graph.root, out) };
}
