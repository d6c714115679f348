// The launch form's shape for react-jsonschema-form, made from the API's launch form
// (`GET pipelines/{ref}/schema`: nf-core `nextflow_schema.json` read into groups of params).
// Each group becomes one object (a section of the form); params the platform sets itself (the
// samplesheet param, `outdir`) are left out; hidden params only appear when asked for. The
// form's data is nested by group; `toParams` flattens it into the run's params, keeping only
// what differs from the defaults (the server applies those).
import type { RJSFSchema, UiSchema } from "@rjsf/utils";
import type { Schemas } from "../../api/client";

export type ParamsFormSpec = Schemas["ParamsForm"];

export type Param = {
  name: string;
  type?: string;
  description?: string;
  help_text?: string;
  default?: unknown;
  enum?: unknown[];
  hidden?: boolean;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  required?: boolean;
  errorMessage?: string;
  mimetype?: string;
};

export type Group = { name: string; title: string; description: string; params: Param[] };

export type FormData = Record<string, Record<string, unknown>>;

/** Formats browsers and JSON Schema both know; nf-core's own (`file-path`, `directory-path`,
 * `path`) are plain text boxes here. */
const STANDARD_FORMATS = new Set(["email", "uri", "date", "date-time", "time"]);
const TYPES = new Set(["string", "integer", "number", "boolean"]);
const CHECKS = ["pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength"] as const;

/** Whether a name from the schema may be a key of the form's schema and uiSchema. rjsf reads
 * `ui:...` keys of the uiSchema as its own options, so a group named `ui:globalOptions` with a
 * param `enableMarkdownInDescription` would turn every description and help text into
 * markdown with HTML (links and images of the pipeline author's choosing on the launch page);
 * `__proto__` and friends are not plain keys of an object. */
export function isPlainName(name: string): boolean {
  return !name.startsWith("ui:") && !UNSAFE_KEYS.has(name);
}

const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** The schema's groups, each under a name that is safe as a form key (a group's name is the
 * form's only, never a param; its title is still shown). A param whose name is not such a key
 * is left out: Nextflow params cannot be named so. */
export function groupsOf(form: ParamsFormSpec): Group[] {
  return (form.groups as unknown as Group[]).map((g, index) => ({
    name: isPlainName(g.name) ? g.name : `group_${index}_`,
    title: g.title || g.name,
    description: g.description || "",
    params: (g.params ?? []).filter((p) => p && typeof p.name === "string" && isPlainName(p.name)),
  }));
}

/** Params the platform fills in for every run: never asked for in the form. */
export function platformParams(form: ParamsFormSpec, engine: string | undefined): Set<string> {
  const names = new Set<string>();
  if (form.samplesheet_param) names.add(form.samplesheet_param);
  if (engine === "nextflow") names.add("outdir");
  return names;
}

export function paramSchema(param: Param): RJSFSchema {
  const type = param.type && TYPES.has(param.type) ? param.type : "string";
  const schema: Record<string, unknown> = { type, title: param.name };
  if (param.description) schema.description = param.description;
  if (param.default !== undefined && param.default !== null) schema.default = param.default;
  if (Array.isArray(param.enum) && param.enum.length > 0) schema.enum = param.enum;
  if (param.format && STANDARD_FORMATS.has(param.format)) schema.format = param.format;
  for (const key of CHECKS) {
    if (param[key] !== undefined) schema[key] = param[key];
  }
  return schema as RJSFSchema;
}

function paramUi(param: Param): UiSchema {
  const ui: UiSchema = {};
  if (param.help_text) ui["ui:help"] = param.help_text;
  if (param.format === "file-path" || param.format === "path") ui["ui:placeholder"] = "s3://bucket/path/file or a path";
  if (param.format === "directory-path") ui["ui:placeholder"] = "s3://bucket/path/ or a folder";
  if (param.type === "boolean") ui["ui:widget"] = "checkbox";
  if (param.hidden) ui["ui:classNames"] = "param-hidden";
  return ui;
}

export type BuiltForm = {
  schema: RJSFSchema;
  uiSchema: UiSchema;
  /** Groups shown (a group whose params are all left out is not). */
  groups: Group[];
  hiddenCount: number;
};

/** The rjsf schema and uiSchema: one object property per group, in the author's order. */
export function buildForm(form: ParamsFormSpec, options: { showHidden: boolean; skip: Set<string> }): BuiltForm {
  const properties: Record<string, RJSFSchema> = {};
  const uiSchema: UiSchema = { "ui:order": [] as string[] };
  const shown: Group[] = [];
  let hiddenCount = 0;
  for (const group of groupsOf(form)) {
    const params = group.params.filter((p) => !options.skip.has(p.name));
    hiddenCount += params.filter((p) => p.hidden).length;
    const visible = params.filter((p) => options.showHidden || !p.hidden);
    if (visible.length === 0) continue;
    const groupProps: Record<string, RJSFSchema> = {};
    const groupUi: UiSchema = { "ui:order": visible.map((p) => p.name) };
    for (const param of visible) {
      groupProps[param.name] = paramSchema(param);
      groupUi[param.name] = paramUi(param);
    }
    const required = visible.filter((p) => p.required).map((p) => p.name);
    properties[group.name] = {
      type: "object",
      title: group.title,
      ...(group.description ? { description: group.description } : {}),
      properties: groupProps,
      ...(required.length ? { required } : {}),
    };
    uiSchema[group.name] = groupUi;
    (uiSchema["ui:order"] as string[]).push(group.name);
    shown.push({ ...group, params: visible });
  }
  return { schema: { type: "object", properties }, uiSchema, groups: shown, hiddenCount };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The run's params from the form's data: set values that are not the default. */
export function toParams(form: ParamsFormSpec, data: FormData | undefined): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const group of groupsOf(form)) {
    const values = data?.[group.name] ?? {};
    for (const param of group.params) {
      const value = values[param.name];
      if (value === undefined || value === null || value === "") continue;
      if (param.default !== undefined && same(value, param.default)) continue;
      params[param.name] = value;
    }
  }
  return params;
}

/** The form's data from params (a relaunch's, or a link's): each param into its group. */
export function fromParams(form: ParamsFormSpec, params: Record<string, unknown>): FormData {
  const data: FormData = {};
  for (const group of groupsOf(form)) {
    for (const param of group.params) {
      if (param.name in params) (data[group.name] ??= {})[param.name] = params[param.name];
    }
  }
  return data;
}

/** Where a server-side problem about `param` goes in the form ({group: {param: {__errors}}}),
 * or null when the param is not in the form (shown above it instead). */
export function problemPath(form: ParamsFormSpec, param: string): [string, string] | null {
  const top = param.split(".")[0];
  for (const group of groupsOf(form)) {
    if (group.params.some((p) => p.name === top)) return [group.name, top];
  }
  return null;
}

/** The custom message an nf-core schema gives a param (`errorMessage`), if any. */
export function customMessage(form: ParamsFormSpec, group: string, param: string): string | undefined {
  const found = groupsOf(form)
    .find((g) => g.name === group)
    ?.params.find((p) => p.name === param);
  return typeof found?.errorMessage === "string" ? found.errorMessage : undefined;
}
