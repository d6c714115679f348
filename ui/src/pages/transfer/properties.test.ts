import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { buildSpec, defaultPatterns, localProblems, namedGroups } from "./importSpec";
import { convertProperties, parseTags } from "./properties";

type Def = Schemas["PropertyDef"];
const def = (name: string, type: string, extra: Partial<Def> = {}): Def => ({ name, type: type as Def["type"], required: false, description: "", ...extra });

describe("property form values", () => {
  it("turns the form's text into typed values and leaves empty fields out", () => {
    const defs = [def("n", "integer"), def("x", "float"), def("ok", "boolean"), def("labels", "list", { items: "string" }), def("note", "string"), def("empty", "string")];
    const out = convertProperties(defs, { n: "42", x: "0.5", ok: true, labels: "a, b,,c", note: " hi ", empty: "" }, [["extra", "1"], ["", "ignored"]]);
    expect(out.errors).toEqual({});
    expect(out.values).toEqual({ n: 42, x: 0.5, ok: true, labels: ["a", "b", "c"], note: "hi", extra: "1" });
  });

  it("names fields that are not numbers", () => {
    const out = convertProperties([def("n", "integer"), def("x", "float")], { n: "4.5", x: "abc" });
    expect(out.errors).toEqual({ n: "a whole number", x: "a number" });
  });

  it("parses tags", () => {
    expect(parseTags(" a, b ,a,, c")).toEqual(["a", "b", "c"]);
  });
});

describe("import spec", () => {
  const pair = { properties: [def("sample", "string"), def("read1", "file"), def("read2", "file")] } as Schemas["DataTypePublic"];

  it("starts fastq_pair with R1/R2 patterns keyed by sample", () => {
    const start = defaultPatterns(pair);
    expect(start.key).toBe("sample");
    expect(start.patterns.map((p) => p.role)).toEqual(["read1", "read2"]);
    expect(namedGroups(start.patterns[0].pattern)).toEqual(["sample"]);
    expect(defaultPatterns(undefined)).toEqual({ key: "", patterns: [{ role: "files", pattern: "[^/]+$" }] });
  });

  it("builds the request, leaving out empty rows", () => {
    const body = buildSpec({
      environment: "prod",
      bucket: "raw",
      prefix: "runs/",
      dataType: "fastq_pair",
      patterns: [{ role: "read1", pattern: "(?P<sample>.+)_R1" }, { role: "read2", pattern: "" }],
      key: " ",
      name: "",
      properties: [["run", "{run}"], [" ", "x"]],
      tags: ["t"],
    });
    expect(body).toEqual({
      environment: "prod",
      bucket: "raw",
      prefix: "runs/",
      data_type: "fastq_pair",
      patterns: { read1: "(?P<sample>.+)_R1" },
      key: null,
      name: null,
      properties: { run: "{run}" },
      tags: ["t"],
    });
  });

  it("says when a property has two patterns or none is written", () => {
    const form = { environment: null, bucket: "b", prefix: "", dataType: "t", key: "", name: "", properties: [], tags: [] };
    expect(localProblems({ ...form, patterns: [{ role: "read1", pattern: "a" }, { role: "read1", pattern: "b" }] })).toEqual([
      "Each property takes one pattern; read1 has more.",
    ]);
    expect(localProblems({ ...form, patterns: [{ role: "files", pattern: "" }] })).toEqual(["Write at least one pattern."]);
  });
});
