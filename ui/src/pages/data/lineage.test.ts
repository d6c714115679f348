import { describe, expect, it } from "vitest";
import { NODE_WIDTH, runOf, sides, toFlow } from "./lineage";

const href = (p: string) => `/t/lab${p}`;
const graph = {
  root: "DS-000002",
  depth: 3,
  truncated: false,
  nodes: [
    { id: "DS-000001", kind: "dataset" as const, name: "reads", data_type: "fastq", archived: false },
    { id: "DS-000002", kind: "dataset" as const, name: "aligned", data_type: "bam", archived: false },
    { id: "DS-000003", kind: "dataset" as const, name: "counts", data_type: "table", archived: true },
    { id: "a1", kind: "activity" as const, name: "pipeline_run", activity_kind: "pipeline_run", details: { run_id: "R-1", run_name: "align-1" }, created_at: "2026-01-02T03:04:05Z" },
    { id: "a2", kind: "activity" as const, name: "manual", activity_kind: "manual", details: {} },
  ],
  edges: [
    { source: "DS-000001", target: "a1" },
    { source: "a1", target: "DS-000002" },
    { source: "DS-000002", target: "a2" },
    { source: "a2", target: "DS-000003" },
    { source: "a2", target: "GONE" },
  ],
};

describe("toFlow", () => {
  const flow = toFlow(graph, href);
  const at = (id: string) => flow.nodes.find((n) => n.id === id)!;

  it("lays out upstream to the left and downstream to the right", () => {
    expect(at("DS-000001").position.x).toBeLessThan(at("a1").position.x);
    expect(at("a1").position.x).toBeLessThan(at("DS-000002").position.x);
    expect(at("DS-000002").position.x).toBeLessThan(at("a2").position.x);
    expect(at("a2").position.x).toBeLessThan(at("DS-000003").position.x);
    // nodes do not overlap
    const xs = flow.nodes.map((n) => n.position.x).sort((a, b) => a - b);
    for (let i = 1; i < xs.length; i++) expect(xs[i] - xs[i - 1]).toBeGreaterThanOrEqual(NODE_WIDTH);
  });

  it("links datasets to their pages and pipeline runs to the run page", () => {
    expect(at("DS-000001").data).toMatchObject({ kind: "dataset", title: "reads", subtitle: "DS-000001 · fastq", href: "/t/lab/datasets/DS-000001", root: false });
    expect(at("DS-000002").data.root).toBe(true);
    expect(at("DS-000003").data.archived).toBe(true);
    expect(at("a1").data).toMatchObject({ kind: "activity", title: "Pipeline run: align-1", href: "/t/lab/runs/R-1" });
    expect(at("a2").data).toMatchObject({ title: "Manual activity", href: null });
  });

  it("keeps only edges between nodes it has", () => {
    expect(flow.edges.map((e) => e.id)).toEqual(["DS-000001->a1", "a1->DS-000002", "DS-000002->a2", "a2->DS-000003"]);
  });

  it("tells upstream from downstream", () => {
    const { upstream, downstream } = sides(graph);
    expect([...upstream].sort()).toEqual(["DS-000001", "a1"]);
    expect([...downstream].sort()).toEqual(["DS-000003", "GONE", "a2"]);
  });
});

describe("runOf", () => {
  it("links a pipeline run by its short id when the details carry its number", () => {
    const node = { details: { run_id: "0b7c1d6e-5a43-4c1e-9a77-0a1f2b3c4d5e", run_number: 12 } } as unknown as Parameters<typeof runOf>[0];
    expect(runOf(node)).toBe("run-12");
  });
  it("falls back to the run id, and to nothing for other activities", () => {
    expect(runOf({ details: { run_id: "abc" } } as unknown as Parameters<typeof runOf>[0])).toBe("abc");
    expect(runOf({ details: {} } as unknown as Parameters<typeof runOf>[0])).toBeNull();
  });
});
