// A data type's property schema as form fields: what each property's input is, and the typed
// values a filled form gives (the API checks them again; this only spares a round trip).
import type { Schemas } from "../../api/client";

export type PropertyDef = Schemas["PropertyDef"];
export type RawValues = Record<string, string | boolean | string[]>;

export type Converted = { values: Record<string, unknown>; errors: Record<string, string> };

/** Typed property values from the form's raw strings; empty fields are left out. */
export function convertProperties(defs: PropertyDef[], raw: RawValues, extra: Array<[string, string]> = []): Converted {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const def of defs) {
    const value = raw[def.name];
    if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) continue;
    if (def.type === "boolean") {
      values[def.name] = value === true || value === "true";
      continue;
    }
    if (Array.isArray(value)) {
      values[def.name] = value;
      continue;
    }
    const text = String(value).trim();
    switch (def.type) {
      case "integer":
        if (!/^-?\d+$/.test(text)) errors[def.name] = "a whole number";
        else values[def.name] = Number(text);
        break;
      case "float":
        if (text === "" || !Number.isFinite(Number(text))) errors[def.name] = "a number";
        else values[def.name] = Number(text);
        break;
      case "list": {
        const items = text.split(",").map((s) => s.trim()).filter(Boolean);
        values[def.name] = def.items === "integer" || def.items === "float" ? items.map(Number) : items;
        if (Array.isArray(values[def.name]) && (values[def.name] as unknown[]).some((n) => typeof n === "number" && !Number.isFinite(n))) {
          errors[def.name] = "numbers, separated by commas";
        }
        break;
      }
      case "datetime":
        // <input type=datetime-local> gives local time without a zone: send it as an instant.
        values[def.name] = Number.isNaN(new Date(text).getTime()) ? text : new Date(text).toISOString();
        break;
      default:
        values[def.name] = text;
    }
  }
  for (const [key, value] of extra) {
    const name = key.trim();
    if (name && !(name in values)) values[name] = value;
  }
  return { values, errors };
}

/** "a, b ,c" -> ["a", "b", "c"] */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(",").map((t) => t.trim()).filter(Boolean))];
}
