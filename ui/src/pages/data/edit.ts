// The dataset edit form's logic: values as the inputs hold them (text), back to typed JSON for
// the API, and the PATCH body with only what the user changed (properties merge on the server,
// so a change made by someone else to another property survives).
import type { Schemas } from "../../api/client";
import { formatValue, sameValue } from "./values";

type PropertyDef = Schemas["PropertyDef"];
type Dataset = Pick<Schemas["DatasetPublic"], "name" | "properties" | "tags">;

export type Draft = { name: string; tags: string; properties: Record<string, string> };

/** The properties the form shows: declared ones in their order, then any others it has. */
export function editableKeys(defs: PropertyDef[], properties: Record<string, unknown>): string[] {
  const declared = defs.map((d) => d.name);
  return [...declared, ...Object.keys(properties).filter((k) => !declared.includes(k)).sort()];
}

export function toText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((v) => formatValue(v)).join(", ");
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function draftOf(dataset: Dataset, defs: PropertyDef[]): Draft {
  const properties: Record<string, string> = {};
  for (const key of editableKeys(defs, dataset.properties)) properties[key] = toText(dataset.properties[key]);
  return { name: dataset.name, tags: dataset.tags.join(", "), properties };
}

function scalar(type: string | null | undefined, text: string, key: string): unknown {
  if (type === "integer" || type === "float") {
    const n = Number(text);
    if (!Number.isFinite(n)) throw new Error(`${key}: "${text}" is not a number`);
    if (type === "integer" && !Number.isInteger(n)) throw new Error(`${key}: "${text}" is not a whole number`);
    return n;
  }
  if (type === "boolean") {
    if (text !== "true" && text !== "false") throw new Error(`${key}: choose true or false`);
    return text === "true";
  }
  return text;
}

/** A field's text as the value the API expects; empty means "remove" (null). Undeclared
 * properties keep the kind of value they had. */
export function fromText(def: PropertyDef | undefined, text: string, previous: unknown, key: string): unknown {
  const raw = text.trim();
  if (raw === "") return null;
  if (def) {
    if (def.type === "list" || def.type === "file_list") {
      const itemType = def.type === "file_list" ? "file" : def.items;
      return raw.split(",").map((t) => scalar(itemType, t.trim(), key));
    }
    return scalar(def.type, raw, key);
  }
  if (typeof previous === "number") return scalar("float", raw, key);
  if (typeof previous === "boolean") return scalar("boolean", raw, key);
  if (Array.isArray(previous)) return raw.split(",").map((t) => t.trim());
  return raw;
}

export type Patch = { name?: string; properties?: Record<string, unknown>; tags?: string[] };

/** What the user changed from `base`, as a PATCH body; throws an Error in words when a value
 * cannot be read. */
export function changes(base: Dataset, draft: Draft, defs: PropertyDef[]): Patch {
  const patch: Patch = {};
  if (draft.name.trim() !== base.name) patch.name = draft.name.trim();
  const properties: Record<string, unknown> = {};
  const baseDraft = draftOf(base, defs);
  for (const [key, text] of Object.entries(draft.properties)) {
    if ((baseDraft.properties[key] ?? "") === text) continue; // untouched: keep whatever is stored
    const def = defs.find((d) => d.name === key);
    const value = fromText(def, text, base.properties[key], key);
    const before = base.properties[key] ?? null;
    if (!sameValue(value, before)) properties[key] = value;
  }
  if (Object.keys(properties).length) patch.properties = properties;
  const tags = splitTags(draft.tags);
  if (!sameValue(tags, base.tags)) patch.tags = tags;
  return patch;
}

export function splitTags(text: string): string[] {
  return [...new Set(text.split(",").map((t) => t.trim()).filter(Boolean))];
}

export function isEmptyPatch(p: Patch): boolean {
  return p.name === undefined && p.properties === undefined && p.tags === undefined;
}

/** A stale edit: the user's changes beside the values the dataset has now. */
export type ConflictRow = { field: string; yours: string; theirs: string; base: string };

export function conflictRows(base: Dataset, latest: Dataset, patch: Patch): ConflictRow[] {
  const rows: ConflictRow[] = [];
  if (patch.name !== undefined) rows.push({ field: "name", yours: patch.name, theirs: latest.name, base: base.name });
  for (const [key, value] of Object.entries(patch.properties ?? {})) {
    rows.push({
      field: key,
      yours: formatValue(value),
      theirs: formatValue(latest.properties[key]),
      base: formatValue(base.properties[key]),
    });
  }
  if (patch.tags !== undefined) {
    rows.push({ field: "tags", yours: formatValue(patch.tags), theirs: formatValue(latest.tags), base: formatValue(base.tags) });
  }
  return rows;
}
