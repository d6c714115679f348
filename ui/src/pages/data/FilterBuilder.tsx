// The filter builder: groups of conditions on the data type's properties and the dataset's
// fields, all or any of them, the groups joined by all or any. The user edits a draft; Apply
// puts it into the URL (one history entry per applied filter, not per keystroke).
import { type FormEvent, useEffect, useState } from "react";
import { Button, Field } from "../../components/ui";
import {
  type Combine,
  type Condition,
  type FieldChoice,
  type FilterState,
  type Group,
  type Op,
  type TableState,
  EMPTY_FILTER,
  OP_LABELS,
  needsValue,
  operatorsFor,
  toApiFilter,
} from "./filters";

export type FilterDraft = Pick<TableState, "filter" | "q" | "tags" | "archived">;

export function FilterBuilder(props: {
  choices: FieldChoice[];
  value: FilterDraft;
  onApply: (draft: FilterDraft) => void;
}) {
  const [draft, setDraft] = useState<FilterDraft>(props.value);
  const [tagsText, setTagsText] = useState(props.value.tags.join(", "));
  // The URL changed (back button, another link): show what it says.
  useEffect(() => {
    setDraft(props.value);
    setTagsText(props.value.tags.join(", "));
  }, [props.value]);

  const errors = toApiFilter(draft.filter, props.choices).errors;
  const setFilter = (filter: FilterState) => setDraft({ ...draft, filter });
  const setGroup = (index: number, group: Group | null) => {
    const groups = [...draft.filter.groups];
    if (group === null || group.conditions.length === 0) groups.splice(index, 1);
    else groups[index] = group;
    setFilter({ ...draft.filter, groups });
  };
  const firstChoice = props.choices[0];
  const newCondition = (): Condition => ({
    field: firstChoice?.key ?? "name",
    op: operatorsFor(firstChoice?.kind ?? "text", firstChoice?.key.startsWith("p:") ?? false)[0],
    value: "",
  });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    if (errors.length) return;
    const tags = tagsText.split(",").map((t) => t.trim()).filter(Boolean);
    props.onApply({ ...draft, tags });
  };
  const clear = () => {
    const empty: FilterDraft = { filter: EMPTY_FILTER, q: "", tags: [], archived: "exclude" };
    setDraft(empty);
    setTagsText("");
    props.onApply(empty);
  };

  return (
    <form className="card filter-builder" onSubmit={apply} aria-label="Filters" data-testid="filter-builder">
      <div className="filter-top">
        <Field label="Name contains">
          <input type="search" value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} placeholder="e.g. liver" />
        </Field>
        <Field label="Tags (all of)" hint="Comma-separated">
          <input type="text" value={tagsText} onChange={(e) => setTagsText(e.target.value)} placeholder="e.g. qc-passed, batch-3" />
        </Field>
        <Field label="Show">
          <select value={draft.archived} onChange={(e) => setDraft({ ...draft, archived: e.target.value as FilterDraft["archived"] })}>
            <option value="exclude">Active datasets</option>
            <option value="include">Active and archived</option>
            <option value="only">Archived only</option>
          </select>
        </Field>
      </div>

      {draft.filter.groups.length > 1 && (
        <div className="row filter-combine">
          <CombinePicker
            label="Groups joined by"
            value={draft.filter.combine}
            onChange={(combine) => setFilter({ ...draft.filter, combine })}
          />
        </div>
      )}
      {draft.filter.groups.map((group, gi) => (
        <fieldset key={gi} className="filter-group" data-testid="filter-group">
          <legend>
            {gi > 0 && <span className="filter-joiner">{draft.filter.combine === "or" ? "or" : "and"} </span>}
            Group {gi + 1}
          </legend>
          {group.conditions.length > 1 && (
            <CombinePicker
              label={`Conditions of group ${gi + 1} joined by`}
              value={group.combine}
              onChange={(combine) => setGroup(gi, { ...group, combine })}
            />
          )}
          {group.conditions.map((condition, ci) => (
            <ConditionRow
              key={ci}
              label={`Group ${gi + 1} condition ${ci + 1}`}
              joiner={ci > 0 ? group.combine : null}
              choices={props.choices}
              value={condition}
              onChange={(c) => {
                const conditions = [...group.conditions];
                if (c === null) conditions.splice(ci, 1);
                else conditions[ci] = c;
                setGroup(gi, { ...group, conditions });
              }}
            />
          ))}
          <Button variant="ghost" onClick={() => setGroup(gi, { ...group, conditions: [...group.conditions, newCondition()] })}>
            + Condition
          </Button>
        </fieldset>
      ))}

      {errors.length > 0 && (
        <div className="alert alert-error" role="alert">
          {errors.join("; ")}
        </div>
      )}
      <div className="row filter-actions">
        <Button
          variant="ghost"
          onClick={() =>
            setFilter({ ...draft.filter, groups: [...draft.filter.groups, { combine: "and", conditions: [newCondition()] }] })
          }
        >
          + {draft.filter.groups.length ? "Group" : "Condition"}
        </Button>
        <span className="spacer" />
        <Button onClick={clear}>Clear</Button>
        <Button variant="primary" type="submit" disabled={errors.length > 0}>
          Apply filters
        </Button>
      </div>
    </form>
  );
}

function CombinePicker(props: { label: string; value: Combine; onChange: (c: Combine) => void }) {
  return (
    <label className="combine">
      <span className="muted">{props.label}</span>{" "}
      <select aria-label={props.label} value={props.value} onChange={(e) => props.onChange(e.target.value as Combine)}>
        <option value="and">AND (all must match)</option>
        <option value="or">OR (any may match)</option>
      </select>
    </label>
  );
}

function ConditionRow(props: {
  label: string;
  joiner: Combine | null;
  choices: FieldChoice[];
  value: Condition;
  onChange: (c: Condition | null) => void;
}) {
  const { value, choices } = props;
  const choice = choices.find((c) => c.key === value.field);
  const ops = operatorsFor(choice?.kind ?? "text", value.field.startsWith("p:"));
  const setField = (field: string) => {
    const next = choices.find((c) => c.key === field);
    const nextOps = operatorsFor(next?.kind ?? "text", field.startsWith("p:"));
    props.onChange({ field, op: nextOps.includes(value.op) ? value.op : nextOps[0], value: "" });
  };
  return (
    <div className="condition" role="group" aria-label={props.label} data-testid="filter-condition">
      <span className="filter-joiner" aria-hidden="true">
        {props.joiner ? props.joiner : "where"}
      </span>
      <select aria-label={`${props.label}: column`} value={value.field} onChange={(e) => setField(e.target.value)}>
        {choices.map((c) => (
          <option key={c.key} value={c.key}>
            {c.label}
          </option>
        ))}
      </select>
      <select aria-label={`${props.label}: comparison`} value={value.op} onChange={(e) => props.onChange({ ...value, op: e.target.value as Op })}>
        {ops.map((op) => (
          <option key={op} value={op}>
            {OP_LABELS[op]}
          </option>
        ))}
      </select>
      {needsValue(value.op) ? (
        <ValueInput label={`${props.label}: value`} choice={choice} value={value.value} onChange={(v) => props.onChange({ ...value, value: v })} />
      ) : (
        <span className="condition-novalue" />
      )}
      <Button variant="ghost" aria-label={`Remove ${props.label.toLowerCase()}`} onClick={() => props.onChange(null)}>
        ✕
      </Button>
    </div>
  );
}

function ValueInput(props: { label: string; choice: FieldChoice | undefined; value: string; onChange: (v: string) => void }) {
  const { choice } = props;
  if (choice?.options) {
    return (
      <select aria-label={props.label} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
        <option value="">Choose…</option>
        {choice.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    );
  }
  const type = choice?.kind === "integer" || choice?.kind === "number" ? "number" : choice?.kind === "datetime" ? "date" : "text";
  return (
    <input
      type={type}
      step={choice?.kind === "number" ? "any" : undefined}
      aria-label={props.label}
      value={props.value}
      onChange={(e) => props.onChange(e.target.value)}
      placeholder="value"
    />
  );
}
