// The import form as the API's ImportCreate, and a sensible start for each data type's
// patterns (RE2 syntax, see mantle/import_syntax.py): R1/R2 pairs for fastq_pair, one FASTQ per
// dataset for fastq, one object per dataset otherwise.
import type { Schemas } from "../../api/client";

type DataType = Schemas["DataTypePublic"];
export type ImportCreate = Schemas["ImportCreate"];

export const FILES_ROLE = "files";
export type PatternRow = { role: string; pattern: string };

export type ImportForm = {
  environment: string | null;
  bucket: string;
  prefix: string;
  dataType: string;
  patterns: PatternRow[];
  /** Named group keying one dataset; "" = one dataset per object. */
  key: string;
  name: string;
  properties: Array<[string, string]>;
  tags: string[];
};

/** The roles a pattern may fill: the type's file properties, or the plain file list. */
export function patternRoles(type: DataType | undefined): string[] {
  const files = (type?.properties ?? []).filter((p) => p.type === "file" || p.type === "file_list").map((p) => p.name);
  return [...files, FILES_ROLE];
}

/** Starting patterns and key for a data type. */
export function defaultPatterns(type: DataType | undefined): { patterns: PatternRow[]; key: string } {
  const files = (type?.properties ?? []).filter((p) => p.type === "file").map((p) => p.name);
  const fastq = String.raw`(\.gz)?$`;
  if (files.length === 2) {
    return {
      key: "sample",
      patterns: [
        { role: files[0], pattern: String.raw`(?P<sample>[^/]+)_R1(_\d{3})?\.f(ast)?q` + fastq },
        { role: files[1], pattern: String.raw`(?P<sample>[^/]+)_R2(_\d{3})?\.f(ast)?q` + fastq },
      ],
    };
  }
  if (files.length === 1) {
    return { key: "sample", patterns: [{ role: files[0], pattern: String.raw`(?P<sample>[^/]+)\.f(ast)?q` + fastq }] };
  }
  return { key: "", patterns: [{ role: FILES_ROLE, pattern: String.raw`[^/]+$` }] };
}

/** The request body; empty rows and properties are left out. */
export function buildSpec(form: ImportForm): ImportCreate {
  const patterns: Record<string, string> = {};
  for (const row of form.patterns) if (row.role && row.pattern) patterns[row.role] = row.pattern;
  const properties: Record<string, string> = {};
  for (const [k, v] of form.properties) if (k.trim()) properties[k.trim()] = v;
  return {
    environment: form.environment,
    bucket: form.bucket,
    prefix: form.prefix,
    data_type: form.dataType,
    patterns,
    key: form.key.trim() || null,
    name: form.name.trim() || null,
    properties,
    tags: form.tags,
  };
}

/** Named groups written in a pattern: `(?P<sample>...)` -> ["sample"]. */
export function namedGroups(pattern: string): string[] {
  return [...pattern.matchAll(/\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]);
}

/** What the UI can say before asking the server (which checks everything again). */
export function localProblems(form: ImportForm): string[] {
  const problems: string[] = [];
  const roles = form.patterns.map((r) => r.role).filter(Boolean);
  const repeated = roles.filter((r, i) => roles.indexOf(r) !== i);
  if (repeated.length) problems.push(`Each property takes one pattern; ${[...new Set(repeated)].join(", ")} has more.`);
  if (!form.patterns.some((r) => r.role && r.pattern)) problems.push("Write at least one pattern.");
  return problems;
}
