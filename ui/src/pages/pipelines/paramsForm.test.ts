import { describe, expect, it } from "vitest";
import { buildForm, fromParams, platformParams, problemPath, toParams, type ParamsFormSpec } from "./paramsForm";

const FORM = {
  pipeline: "rnaseq",
  version: 2,
  title: "",
  description: "",
  samplesheet_param: "input",
  samplesheet_columns: [],
  inputs: [],
  groups: [
    {
      name: "input_output_options",
      title: "Input/output options",
      description: "Where the data comes from",
      params: [
        { name: "input", type: "string", format: "file-path", required: true, hidden: false },
        { name: "outdir", type: "string", format: "directory-path", required: true, hidden: false },
        { name: "email", type: "string", format: "email", pattern: "^\\S+@\\S+$", hidden: false, required: false },
      ],
    },
    {
      name: "alignment",
      title: "Alignment",
      description: "",
      params: [
        { name: "aligner", type: "string", enum: ["star_salmon", "hisat2"], default: "star_salmon", help_text: "Which aligner", hidden: false, required: false },
        { name: "min_reads", type: "integer", minimum: 1, default: 10, hidden: false, required: false },
        { name: "skip_qc", type: "boolean", default: false, hidden: false, required: false },
        { name: "seed", type: "integer", hidden: true, required: false },
      ],
    },
    { name: "internal", title: "Internal", description: "", params: [{ name: "monochrome_logs", type: "boolean", hidden: true, required: false }] },
  ],
} as unknown as ParamsFormSpec;

describe("buildForm", () => {
  const skip = platformParams(FORM, "nextflow");

  it("leaves out the params the platform sets and their required marks", () => {
    expect([...skip].sort()).toEqual(["input", "outdir"]);
    const built = buildForm(FORM, { showHidden: false, skip });
    const io = built.schema.properties!.input_output_options as { properties: Record<string, unknown>; required?: string[] };
    expect(Object.keys(io.properties)).toEqual(["email"]);
    expect(io.required).toBeUndefined();
  });

  it("makes one section per group with types, defaults, enums, checks and help", () => {
    const built = buildForm(FORM, { showHidden: false, skip });
    expect(built.uiSchema["ui:order"]).toEqual(["input_output_options", "alignment"]); // internal: only hidden params
    const alignment = built.schema.properties!.alignment as { title: string; properties: Record<string, Record<string, unknown>> };
    expect(alignment.title).toBe("Alignment");
    expect(alignment.properties.aligner).toMatchObject({ type: "string", enum: ["star_salmon", "hisat2"], default: "star_salmon" });
    expect(alignment.properties.min_reads).toMatchObject({ type: "integer", minimum: 1, default: 10 });
    expect(built.uiSchema.alignment.aligner["ui:help"]).toBe("Which aligner");
    expect(built.uiSchema.alignment.skip_qc["ui:widget"]).toBe("checkbox");
    // nf-core's own formats are plain text; standard ones are kept.
    const io = built.schema.properties!.input_output_options as { properties: Record<string, Record<string, unknown>> };
    expect(io.properties.email.format).toBe("email");
  });

  it("shows hidden params only when asked, and counts them", () => {
    const hidden = buildForm(FORM, { showHidden: false, skip });
    expect(hidden.hiddenCount).toBe(2);
    expect(Object.keys((hidden.schema.properties!.alignment as { properties: object }).properties)).not.toContain("seed");
    const shown = buildForm(FORM, { showHidden: true, skip });
    expect(Object.keys((shown.schema.properties!.alignment as { properties: object }).properties)).toContain("seed");
    expect(shown.uiSchema["ui:order"]).toContain("internal");
  });
});

describe("params from and to the form's data", () => {
  it("keeps only set values that differ from the defaults", () => {
    const data = { alignment: { aligner: "star_salmon", min_reads: 20, skip_qc: false, seed: undefined }, input_output_options: { email: "" } };
    expect(toParams(FORM, data)).toEqual({ min_reads: 20 });
  });

  it("puts params back into their groups", () => {
    expect(fromParams(FORM, { min_reads: 5, email: "a@b.c", unknown: 1 })).toEqual({
      input_output_options: { email: "a@b.c" },
      alignment: { min_reads: 5 },
    });
  });

  it("finds where a server problem goes", () => {
    expect(problemPath(FORM, "min_reads")).toEqual(["alignment", "min_reads"]);
    expect(problemPath(FORM, "nope")).toBeNull();
  });
});

describe("names a hostile schema picks", () => {
  const HOSTILE = {
    ...FORM,
    groups: [
      {
        name: "ui:globalOptions",
        title: "Looks harmless",
        description: "",
        params: [
          { name: "enableMarkdownInDescription", type: "boolean", default: true, hidden: false, required: false },
          { name: "enableMarkdownInHelp", type: "boolean", default: true, hidden: false, required: false },
        ],
      },
      { name: "ui:order", title: "Order", description: "", params: [{ name: "depth", type: "integer", hidden: false, required: false }] },
      {
        name: "__proto__",
        title: "Proto",
        description: "",
        params: [
          { name: "ui:widget", type: "string", hidden: false, required: false },
          { name: "__proto__", type: "string", hidden: false, required: false },
          { name: "kept", type: "string", hidden: false, required: false },
        ],
      },
    ],
  } as unknown as ParamsFormSpec;

  it("never become rjsf options (markdown, order) or object prototypes", () => {
    const built = buildForm(HOSTILE, { showHidden: true, skip: new Set() });
    expect(Object.keys(built.uiSchema).filter((k) => k.startsWith("ui:"))).toEqual(["ui:order"]);
    expect(built.uiSchema["ui:order"]).toEqual(["group_0_", "group_1_", "group_2_"]);
    expect(JSON.stringify(built.uiSchema)).not.toContain("enableMarkdown\":{");
    expect(Object.getPrototypeOf(built.schema.properties)).toBe(Object.prototype);
    const third = (built.schema.properties as Record<string, { properties: object; title: string }>)["group_2_"];
    expect(Object.keys(third.properties)).toEqual(["kept"]);
    expect(built.groups.map((g) => g.title)).toEqual(["Looks harmless", "Order", "Proto"]);
  });

  it("still carry their params to the run", () => {
    const data = fromParams(HOSTILE, { enableMarkdownInHelp: false, depth: 3, kept: "x" });
    expect(toParams(HOSTILE, data)).toEqual({ enableMarkdownInHelp: false, depth: 3, kept: "x" });
    expect(problemPath(HOSTILE, "depth")).toEqual(["group_1_", "depth"]);
  });
});
