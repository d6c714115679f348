// The fields of a data type's properties (text, numbers, choices, yes/no, dates, and file
// properties as a choice among the files being uploaded), and PropertyRows: free name = value
// rows for properties the type does not declare (upload) or sets the same on every dataset
// (import).
import { Button, Field } from "../../components/ui";
import type { PropertyDef, RawValues } from "./properties";

export function PropertyFields(props: {
  defs: PropertyDef[];
  values: RawValues;
  onChange: (name: string, value: string | boolean | string[]) => void;
  errors: Record<string, string>;
  /** Paths of the files being uploaded: the choices of file properties. */
  files: string[];
  /** Hints for properties the page fills by itself when left empty (e.g. from file names). */
  automatic: Record<string, string>;
}) {
  return (
    <div className="transfer-props">
      {props.defs.map((def) => {
        const label = `${def.name}${def.required ? " (required)" : ""}`;
        const hint = [def.description, props.automatic[def.name]].filter(Boolean).join(" · ") || undefined;
        const error = props.errors[def.name] ?? null;
        const raw = props.values[def.name];
        const text = typeof raw === "string" ? raw : "";
        const fileOptions = props.files.map((f) => (
          <option key={f} value={f}>
            {f}
          </option>
        ));
        if (def.type === "boolean") {
          return (
            <div className="field" key={def.name}>
              <label className="transfer-check">
                <input type="checkbox" checked={raw === true} onChange={(e) => props.onChange(def.name, e.target.checked)} />
                {def.name}
              </label>
              {hint && <small className="muted">{hint}</small>}
            </div>
          );
        }
        if (def.type === "file") {
          return (
            <Field key={def.name} label={label} hint={hint} error={error}>
              <select value={text} onChange={(e) => props.onChange(def.name, e.target.value)}>
                <option value="">{props.automatic[def.name] ? "Matched from the file names" : "Choose a file"}</option>
                {fileOptions}
              </select>
            </Field>
          );
        }
        if (def.type === "file_list") {
          const chosen = Array.isArray(raw) ? raw : [];
          return (
            <Field key={def.name} label={label} hint={hint ?? "Hold Ctrl (⌘ on a Mac) to choose several."} error={error}>
              <select
                multiple
                value={chosen}
                size={Math.min(6, Math.max(2, props.files.length))}
                onChange={(e) => props.onChange(def.name, Array.from(e.target.selectedOptions, (o) => o.value))}
              >
                {fileOptions}
              </select>
            </Field>
          );
        }
        if (def.enum) {
          return (
            <Field key={def.name} label={label} hint={hint} error={error}>
              <select value={text} onChange={(e) => props.onChange(def.name, e.target.value)}>
                <option value="">—</option>
                {def.enum.map((v) => (
                  <option key={String(v)} value={String(v)}>
                    {String(v)}
                  </option>
                ))}
              </select>
            </Field>
          );
        }
        const inputType = def.type === "integer" || def.type === "float" ? "number" : def.type === "datetime" ? "datetime-local" : "text";
        return (
          <Field key={def.name} label={label} hint={def.type === "list" ? [hint, "Separate items with commas."].filter(Boolean).join(" ") : hint} error={error}>
            <input
              type={inputType}
              step={def.type === "float" ? "any" : undefined}
              value={text}
              placeholder={def.type === "dataset" ? "DS-000042" : props.automatic[def.name] ? "automatic" : undefined}
              onChange={(e) => props.onChange(def.name, e.target.value)}
            />
          </Field>
        );
      })}
    </div>
  );
}

export function PropertyRows(props: {
  legend: string;
  /** Said while there are no rows. */
  hint?: string;
  valuePlaceholder: string;
  rows: Array<[string, string]>;
  onChange: (rows: Array<[string, string]>) => void;
}) {
  const { rows, onChange } = props;
  return (
    <fieldset className="transfer-extra">
      <legend>{props.legend}</legend>
      {rows.length === 0 && props.hint && <p className="muted">{props.hint}</p>}
      {rows.map(([name, value], i) => (
        <div className="row" key={i}>
          <input type="text" aria-label={`Property ${i + 1} name`} placeholder="name" value={name} onChange={(e) => onChange(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />
          <input type="text" aria-label={`Property ${i + 1} value`} placeholder={props.valuePlaceholder} value={value} onChange={(e) => onChange(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} />
          <Button variant="ghost" aria-label={`Remove property ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            ✕
          </Button>
        </div>
      ))}
      <Button variant="ghost" onClick={() => onChange([...rows, ["", ""]])}>
        + Add a property
      </Button>
    </fieldset>
  );
}
