// The data table's query as the user builds it (filter groups, name search, tags, sort, page
// size, cursor) and its two other forms: the URL query string (shareable, back button) and the
// API's parameters (`GET /datasets` with the JSON `filter` tree, the same for the export).
import type { Schemas } from "../../api/client";

export type PropertyDef = Schemas["PropertyDef"];
export type Op = "eq" | "ne" | "lt" | "lte" | "gt" | "gte" | "contains" | "exists" | "missing";
export type Combine = "and" | "or";

/** One comparison: a property (`p:<name>`) or a field (`name`, `tag`, `created_at`, ...). */
export type Condition = { field: string; op: Op; value: string };
export type Group = { combine: Combine; conditions: Condition[] };
export type FilterState = { combine: Combine; groups: Group[] };

export type TableState = {
  filter: FilterState;
  q: string;
  tags: string[];
  sort: string;
  limit: number;
  cursor: string | null;
  archived: "exclude" | "include" | "only";
};

export const PAGE_SIZES = [25, 50, 100, 200];
export const DEFAULT_SORT = "-created_at";
export const DEFAULT_LIMIT = 50;
export const EMPTY_FILTER: FilterState = { combine: "and", groups: [] };

export const OP_LABELS: Record<Op, string> = {
  eq: "=",
  ne: "≠",
  lt: "<",
  lte: "≤",
  gt: ">",
  gte: "≥",
  contains: "contains",
  exists: "is set",
  missing: "is not set",
};

/** What a filterable column holds, to pick its operators and read its value. */
export type ValueKind = "text" | "number" | "integer" | "boolean" | "datetime" | "list" | "tag";

export type FieldChoice = { key: string; label: string; kind: ValueKind; options?: string[] };

/** The fields every dataset has (the API's FIELDS), then the data type's properties. */
export function fieldChoices(properties: PropertyDef[]): FieldChoice[] {
  const fields: FieldChoice[] = [
    { key: "name", label: "Name", kind: "text" },
    { key: "tag", label: "Tag", kind: "tag" },
    { key: "created_at", label: "Created", kind: "datetime" },
    { key: "created_by", label: "Created by", kind: "text" },
  ];
  return [
    ...properties.map((p) => ({
      key: `p:${p.name}`,
      label: p.name,
      kind: propertyKind(p),
      options: p.enum ? p.enum.map(String) : p.type === "boolean" ? ["true", "false"] : undefined,
    })),
    ...fields,
  ];
}

export function propertyKind(p: PropertyDef): ValueKind {
  switch (p.type) {
    case "integer":
      return "integer";
    case "float":
      return "number";
    case "boolean":
      return "boolean";
    case "datetime":
      return "datetime";
    case "list":
    case "file_list":
      return "list";
    default:
      return "text";
  }
}

export function operatorsFor(kind: ValueKind, isProperty: boolean): Op[] {
  const presence: Op[] = isProperty ? ["exists", "missing"] : [];
  switch (kind) {
    case "integer":
    case "number":
    case "datetime":
      return ["eq", "ne", "lt", "lte", "gt", "gte", ...presence];
    case "boolean":
      return ["eq", "ne", ...presence];
    case "list":
      return ["contains", ...presence];
    case "tag":
      return ["eq", "ne"];
    default:
      return ["eq", "ne", "contains", "lt", "gt", ...presence];
  }
}

export function needsValue(op: Op): boolean {
  return op !== "exists" && op !== "missing";
}

/** A condition the user has not finished (no value yet) is left out of the query. */
export function isComplete(c: Condition): boolean {
  return !needsValue(c.op) || c.value.trim() !== "";
}

/** The value the API should compare with, typed as the column is; an error in words if the
 * text cannot be read that way. */
export function typedValue(choice: FieldChoice | undefined, text: string): { value?: string | number | boolean; error?: string } {
  const raw = text.trim();
  const kind = choice?.kind ?? "text";
  if (kind === "integer" || kind === "number") {
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n)) return { error: `${choice?.label ?? "value"}: "${raw}" is not a number` };
    if (kind === "integer" && !Number.isInteger(n)) return { error: `${choice?.label}: "${raw}" is not a whole number` };
    return { value: n };
  }
  if (kind === "boolean") {
    if (raw !== "true" && raw !== "false") return { error: `${choice?.label}: choose true or false` };
    return { value: raw === "true" };
  }
  return { value: raw };
}

type Leaf = { property?: string; field?: string; op: string; value?: unknown };
export type ApiFilter = { and: ApiNode[] } | { or: ApiNode[] } | { not: ApiNode } | Leaf;
type ApiNode = ApiFilter;

function leaf(c: Condition, choices: FieldChoice[]): { node?: ApiNode; error?: string } {
  const choice = choices.find((f) => f.key === c.field);
  const target = c.field.startsWith("p:") ? { property: c.field.slice(2) } : { field: c.field };
  if (c.op === "exists") return { node: { ...target, op: "exists", value: true } };
  if (c.op === "missing") return { node: { ...target, op: "exists", value: false } };
  const typed = typedValue(choice, c.value);
  if (typed.error) return { error: typed.error };
  return { node: { ...target, op: c.op, value: typed.value } };
}

/** UI filter -> the API's filter tree (`{"and": [{"or": [...]}, ...]}`), or null when it has
 * no complete condition. Problems (a value that is not a number) come back in words. */
export function toApiFilter(state: FilterState, choices: FieldChoice[]): { filter: ApiFilter | null; errors: string[] } {
  const errors: string[] = [];
  const groups: ApiNode[] = [];
  for (const group of state.groups) {
    const leaves: ApiNode[] = [];
    for (const c of group.conditions.filter(isComplete)) {
      const made = leaf(c, choices);
      if (made.error) errors.push(made.error);
      else if (made.node) leaves.push(made.node);
    }
    if (leaves.length === 1) groups.push(leaves[0]);
    else if (leaves.length > 1) groups.push(group.combine === "or" ? { or: leaves } : { and: leaves });
  }
  if (groups.length === 0) return { filter: null, errors };
  const filter: ApiFilter = state.combine === "or" ? { or: groups } : { and: groups };
  return { filter, errors };
}

// --- the URL ---------------------------------------------------------------------------------

/** The filter in the URL: `[combine, [[groupCombine, [[field, op, value], ...]], ...]]`. */
type UrlFilter = [Combine, [Combine, [string, Op, string][]][]];

const OPS = new Set<Op>(Object.keys(OP_LABELS) as Op[]);

export function encodeFilter(state: FilterState): string | null {
  const groups = state.groups
    .map((g) => [g.combine, g.conditions.map((c) => [c.field, c.op, c.value])] as [Combine, [string, Op, string][]])
    .filter(([, conditions]) => conditions.length > 0);
  if (groups.length === 0) return null;
  return JSON.stringify([state.combine, groups] satisfies UrlFilter);
}

function combineOf(value: unknown): Combine {
  return value === "or" ? "or" : "and";
}

/** Reads a filter from the URL; anything unreadable (a hand-edited link) is dropped. */
export function decodeFilter(text: string | null): FilterState {
  if (!text) return EMPTY_FILTER;
  try {
    const data = JSON.parse(text) as unknown;
    if (!Array.isArray(data) || !Array.isArray(data[1])) return EMPTY_FILTER;
    const groups: Group[] = [];
    for (const g of data[1] as unknown[]) {
      if (!Array.isArray(g) || !Array.isArray(g[1])) continue;
      const conditions: Condition[] = [];
      for (const c of g[1] as unknown[]) {
        if (!Array.isArray(c) || typeof c[0] !== "string" || !OPS.has(c[1] as Op)) continue;
        conditions.push({ field: c[0], op: c[1] as Op, value: c[2] === undefined ? "" : String(c[2]) });
      }
      if (conditions.length) groups.push({ combine: combineOf(g[0]), conditions });
    }
    return { combine: combineOf(data[0]), groups };
  } catch {
    return EMPTY_FILTER;
  }
}

/** What a link's filter lost in reading (`decodeFilter` drops what it cannot read), in words
 * for the page; null when it was read whole. A cut or hand-edited link must not pass silently
 * for "everything". */
export function unreadableFilter(text: string | null): string | null {
  if (!text) return null;
  const lost = "The filter in this link cannot be read (cut short or edited?)";
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return `${lost}: the datasets are shown without it.`;
  }
  if (!Array.isArray(data) || !Array.isArray(data[1])) return `${lost}: the datasets are shown without it.`;
  let written = 0;
  for (const g of data[1] as unknown[]) written += Array.isArray(g) && Array.isArray(g[1]) ? g[1].length : 1;
  const read = decodeFilter(text).groups.reduce((n, g) => n + g.conditions.length, 0);
  if (read === written) return null;
  return read === 0 ? `${lost}: the datasets are shown without it.` : `${lost}: ${written - read} of its ${written} conditions are left out.`;
}

const ARCHIVED = new Set(["exclude", "include", "only"]);

export function readUrl(params: URLSearchParams): TableState {
  const limit = Number(params.get("limit"));
  const archived = params.get("archived") ?? "exclude";
  return {
    filter: decodeFilter(params.get("filter")),
    q: params.get("q") ?? "",
    tags: (params.get("tags") ?? "").split(",").map((t) => t.trim()).filter(Boolean),
    sort: params.get("sort") || DEFAULT_SORT,
    limit: PAGE_SIZES.includes(limit) ? limit : DEFAULT_LIMIT,
    cursor: params.get("cursor") || null,
    archived: (ARCHIVED.has(archived) ? archived : "exclude") as TableState["archived"],
  };
}

/** Only what differs from the defaults goes into the URL (short links). */
export function writeUrl(state: TableState): URLSearchParams {
  const params = new URLSearchParams();
  const filter = encodeFilter(state.filter);
  if (filter) params.set("filter", filter);
  if (state.q.trim()) params.set("q", state.q.trim());
  if (state.tags.length) params.set("tags", state.tags.join(","));
  if (state.sort !== DEFAULT_SORT) params.set("sort", state.sort);
  if (state.limit !== DEFAULT_LIMIT) params.set("limit", String(state.limit));
  if (state.archived !== "exclude") params.set("archived", state.archived);
  if (state.cursor) params.set("cursor", state.cursor);
  return params;
}

// --- the API ---------------------------------------------------------------------------------

export type ListQuery = {
  type?: string;
  q?: string;
  tag?: string[];
  sort: string;
  filter?: string;
  archived: TableState["archived"];
};

/** The query parameters of `GET /datasets` and `GET /datasets/export` (without the page). */
export function listQuery(state: TableState, type: string | undefined, choices: FieldChoice[]): { query: ListQuery; errors: string[] } {
  const { filter, errors } = toApiFilter(state.filter, choices);
  const query: ListQuery = { sort: state.sort, archived: state.archived };
  if (type) query.type = type;
  if (state.q.trim()) query.q = state.q.trim();
  if (state.tags.length) query.tag = state.tags;
  if (filter) query.filter = JSON.stringify(filter);
  return { query, errors };
}

/** The export's URL: the current query, or only the selected datasets when some are. */
export function exportUrl(tenant: string, query: ListQuery, selected: string[]): string {
  const params = new URLSearchParams();
  if (query.type) params.set("type", query.type);
  params.set("sort", query.sort);
  params.set("format", "csv");
  if (selected.length) {
    params.set("archived", "include");
    params.set("filter", JSON.stringify({ field: "id", op: "in", value: selected }));
  } else {
    params.set("archived", query.archived);
    if (query.q) params.set("q", query.q);
    for (const t of query.tag ?? []) params.append("tag", t);
    if (query.filter) params.set("filter", query.filter);
  }
  return `/api/v1/tenants/${encodeURIComponent(tenant)}/datasets/export?${params.toString()}`;
}

/** `-properties.depth` <-> TanStack's [{id: "properties.depth", desc: true}]. */
export function sortToColumns(sort: string): { id: string; desc: boolean }[] {
  const desc = sort.startsWith("-");
  return [{ id: sort.replace(/^[-+]/, ""), desc }];
}

export function columnsToSort(columns: { id: string; desc: boolean }[]): string {
  const first = columns[0];
  if (!first) return DEFAULT_SORT;
  return `${first.desc ? "-" : ""}${first.id}`;
}
