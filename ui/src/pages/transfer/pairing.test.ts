import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import type { Picked } from "./collect";
import { planDatasets, readOf, sampleName } from "./pairing";

type DataType = Schemas["DataTypePublic"];

function type(name: string, props: Array<[string, string]>): DataType {
  return {
    id: "t",
    name,
    description: "",
    version: 1,
    properties: props.map(([n, kind]) => ({ name: n, type: kind as Schemas["PropertyType"], required: true, description: "" })),
    additional_properties: false,
    builtin: true,
    created_at: "",
    created_by: "",
    updated_at: "",
  };
}

const PAIR = type("fastq_pair", [["sample", "string"], ["read1", "file"], ["read2", "file"]]);
const FASTQ = type("fastq", [["sample", "string"], ["reads", "file"]]);
const DIRECTORY = type("directory", []);

function picked(paths: string[], folders: string[] = []): Picked {
  return { files: paths.map((path) => ({ path, file: new File(["x"], path.split("/").pop() as string) })), folders };
}

describe("datasets from files, as `mantle upload` makes them", () => {
  it("reads the usual Illumina and SRA names", () => {
    expect(readOf("S1_L001_R1_001.fastq.gz")).toEqual(["S1_L001_001.fastq.gz", 1]);
    expect(readOf("S1_R2.fq.gz")).toEqual(["S1.fq.gz", 2]);
    expect(readOf("SRR1.1.fastq")).toEqual(["SRR1.fastq", 1]);
    expect(readOf("notes.txt")).toBeNull();
    expect(sampleName("S1_L001_R1_001.fastq.gz")).toBe("S1_L001");
    expect(sampleName("lonely.fastq.gz")).toBe("lonely");
  });

  it("pairs R1/R2 files into one dataset each, filling sample", () => {
    const plan = planDatasets(picked(["B_R1.fastq.gz", "A_R2.fastq.gz", "A_R1.fastq.gz", "B_R2.fastq.gz"]), PAIR, {});
    expect(plan.kind).toBe("samples");
    if (plan.kind !== "samples") return;
    expect(plan.datasets.map((d) => [d.name, d.properties])).toEqual([
      ["A", { read1: "A_R1.fastq.gz", read2: "A_R2.fastq.gz", sample: "A" }],
      ["B", { read1: "B_R1.fastq.gz", read2: "B_R2.fastq.gz", sample: "B" }],
    ]);
  });

  it("says which file has no mate", () => {
    const plan = planDatasets(picked(["A_R1.fastq.gz", "A_R2.fastq.gz", "C_R1.fastq.gz"]), PAIR, {});
    expect(plan).toEqual({ kind: "error", message: "C_R1.fastq.gz: no matching read 2." });
  });

  it("makes one dataset per file for a one-file type", () => {
    const plan = planDatasets(picked(["x.fastq.gz", "y.fq"]), FASTQ, {});
    expect(plan.kind === "samples" && plan.datasets.map((d) => d.properties)).toEqual([
      { reads: "x.fastq.gz", sample: "x" },
      { reads: "y.fq", sample: "y" },
    ]);
  });

  it("makes one dataset of a folder, named after it", () => {
    const plan = planDatasets(picked(["run7/a.txt", "run7/sub/b.txt"], ["run7"]), DIRECTORY, {});
    expect(plan.kind).toBe("one");
    expect(plan.kind === "one" && plan.datasets[0].name).toBe("run7");
    expect(planDatasets(picked(["run7/a.txt"], ["run7"]), PAIR, {}).kind).toBe("one");
  });

  it("makes one dataset when the user named the files, or a name was given", () => {
    const files = picked(["A_R1.fastq.gz", "A_R2.fastq.gz"]);
    expect(planDatasets(files, PAIR, { read1: "A_R1.fastq.gz" }).kind).toBe("one");
    const named = planDatasets(files, PAIR, {}, "my sample");
    expect(named.kind === "samples" && named.datasets[0].name).toBe("my sample");
    const single = planDatasets(picked(["one.txt"]), DIRECTORY, {});
    expect(single.kind === "one" && single.datasets[0].name).toBe("one.txt");
  });
});
