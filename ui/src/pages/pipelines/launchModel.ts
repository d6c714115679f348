// The launch page's pure parts: the catalog query written in the API's short form (the same
// one `mantle launch --inputs` takes), the dataset selection from the URL, the launch body,
// and the idempotency key that stays the same while the body does (a double click or a
// retried request launches once).
import type { Schemas } from "../../api/client";

export type Condition = { property: string; op: string; value: string };

export const OPERATORS: Array<{ op: string; label: string }> = [
  { op: "=", label: "is" },
  { op: "!=", label: "is not" },
  { op: "in", label: "is one of" },
  { op: "~=", label: "contains" },
  { op: ">", label: ">" },
  { op: ">=", label: "≥" },
  { op: "<", label: "<" },
  { op: "<=", label: "≤" },
  { op: "?", label: "is set" },
];

const PROPERTY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One condition as the query's text, or an error saying what is wrong with it. */
export function conditionText(c: Condition): { text?: string; error?: string } {
  const property = c.property.trim();
  if (!property) return {};
  if (!PROPERTY.test(property)) return { error: `“${property}” is not a property name` };
  if (c.op === "?") return { text: `${property}?` };
  const value = c.value.trim();
  if (!value) return { error: `give a value for ${property}` };
  if (c.op === "in") {
    const items = value.split(",").map((v) => v.trim()).filter(Boolean);
    if (items.some((v) => /[[\]]/.test(v))) return { error: `${property}: values cannot hold [ or ]` };
    return { text: `${property}=[${items.join(",")}]` };
  }
  if (/[,[\]]/.test(value)) return { error: `${property}: a value cannot hold a comma or brackets (use “is one of” for several)` };
  return { text: `${property}${c.op}${value}` };
}

/** `type=fastq_pair,sample=[S1,S2],depth>=30`; errors for the conditions that cannot be
 * written. */
export function buildQuery(dataType: string, conditions: Condition[]): { query: string; errors: string[] } {
  const parts = dataType ? [`type=${dataType}`] : [];
  const errors: string[] = [];
  for (const c of conditions) {
    const { text, error } = conditionText(c);
    if (error) errors.push(error);
    else if (text) parts.push(text);
  }
  return { query: parts.join(","), errors };
}

/** `?datasets=DS-000001,DS-000002` (or repeated) -> the refs, each once, in order. */
export function selectionFromSearch(search: URLSearchParams): string[] {
  const refs = search
    .getAll("datasets")
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  return [...new Set(refs)];
}

export type InputsChoice = { mode: "selection"; datasets: string[] } | { mode: "query"; query: string };

export type LaunchBody = Schemas["LaunchRequest"];

export function launchBody(options: {
  pipeline: string;
  version: number | null;
  environment: string;
  params: Record<string, unknown>;
  inputs: InputsChoice;
  name: string;
}): LaunchBody {
  return {
    pipeline: options.pipeline,
    version: options.version,
    environment: options.environment || null,
    params: options.params,
    inputs:
      options.inputs.mode === "selection"
        ? { datasets: options.inputs.datasets }
        : { datasets: [], query: options.inputs.query || null },
    name: options.name.trim(),
  };
}

/** A stable text of a body (keys sorted), to tell two bodies apart. */
export function fingerprint(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object") {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, x]) => [k, sort(x)]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

export function newKey(): string {
  if (typeof crypto !== "undefined" && "randomUUID" in crypto) return `ui-${crypto.randomUUID()}`;
  return `ui-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** Keeps one idempotency key per launch body: the same body gets the same key (a double
 * click, a retry after a lost answer), a changed body a new one. */
export class IdempotencyKeys {
  private current: { print: string; key: string } | null = null;
  constructor(private readonly make: () => string = newKey) {}
  keyFor(body: unknown): string {
    const print = fingerprint(body);
    if (!this.current || this.current.print !== print) this.current = { print, key: this.make() };
    return this.current.key;
  }
}
