import { describe, expect, it } from "vitest";
import {
  DEFAULT_LIMIT,
  EMPTY_FILTER,
  type FilterState,
  type PropertyDef,
  type TableState,
  columnsToSort,
  decodeFilter,
  encodeFilter,
  exportUrl,
  fieldChoices,
  listQuery,
  operatorsFor,
  readUrl,
  sortToColumns,
  toApiFilter,
  writeUrl,
} from "./filters";
import { unreadableFilter } from "./filters";

const PROPS: PropertyDef[] = [
  { name: "sample", type: "string", required: true, description: "", enum: null, items: null },
  { name: "depth", type: "integer", required: false, description: "", enum: null, items: null },
  { name: "ratio", type: "float", required: false, description: "", enum: null, items: null },
  { name: "paired", type: "boolean", required: false, description: "", enum: null, items: null },
  { name: "tissue", type: "string", required: false, description: "", enum: ["liver", "brain"], items: null },
  { name: "lanes", type: "list", required: false, description: "", enum: null, items: "integer" },
];
const choices = fieldChoices(PROPS);

const base: TableState = {
  filter: EMPTY_FILTER,
  q: "",
  tags: [],
  sort: "-created_at",
  limit: DEFAULT_LIMIT,
  cursor: null,
  archived: "exclude",
};

describe("toApiFilter", () => {
  it("is null without conditions, and leaves out unfinished ones", () => {
    expect(toApiFilter(EMPTY_FILTER, choices)).toEqual({ filter: null, errors: [] });
    const unfinished: FilterState = { combine: "and", groups: [{ combine: "and", conditions: [{ field: "p:sample", op: "eq", value: " " }] }] };
    expect(toApiFilter(unfinished, choices).filter).toBeNull();
  });

  it("types values as the properties are declared", () => {
    const state: FilterState = {
      combine: "and",
      groups: [
        {
          combine: "and",
          conditions: [
            { field: "p:depth", op: "gte", value: "30" },
            { field: "p:ratio", op: "lt", value: "0.5" },
            { field: "p:paired", op: "eq", value: "true" },
            { field: "p:sample", op: "contains", value: " S1 " },
          ],
        },
      ],
    };
    expect(toApiFilter(state, choices)).toEqual({
      filter: {
        and: [
          {
            and: [
              { property: "depth", op: "gte", value: 30 },
              { property: "ratio", op: "lt", value: 0.5 },
              { property: "paired", op: "eq", value: true },
              { property: "sample", op: "contains", value: "S1" },
            ],
          },
        ],
      },
      errors: [],
    });
  });

  it("joins groups with OR and conditions in a group with their own combine", () => {
    const state: FilterState = {
      combine: "or",
      groups: [
        { combine: "and", conditions: [{ field: "p:tissue", op: "eq", value: "liver" }, { field: "p:depth", op: "gt", value: "10" }] },
        { combine: "or", conditions: [{ field: "tag", op: "eq", value: "qc" }, { field: "name", op: "contains", value: "brain" }] },
        { combine: "and", conditions: [{ field: "p:lanes", op: "missing", value: "" }] },
      ],
    };
    expect(toApiFilter(state, choices).filter).toEqual({
      or: [
        { and: [{ property: "tissue", op: "eq", value: "liver" }, { property: "depth", op: "gt", value: 10 }] },
        { or: [{ field: "tag", op: "eq", value: "qc" }, { field: "name", op: "contains", value: "brain" }] },
        { property: "lanes", op: "exists", value: false },
      ],
    });
  });

  it("says in words when a number is not one", () => {
    const state: FilterState = { combine: "and", groups: [{ combine: "and", conditions: [{ field: "p:depth", op: "eq", value: "3.5" }, { field: "p:ratio", op: "eq", value: "x" }] }] };
    expect(toApiFilter(state, choices).errors).toEqual(['depth: "3.5" is not a whole number', 'ratio: "x" is not a number']);
  });

  it("offers comparisons that fit each kind of column", () => {
    expect(operatorsFor("integer", true)).toEqual(["eq", "ne", "lt", "lte", "gt", "gte", "exists", "missing"]);
    expect(operatorsFor("boolean", true)).toEqual(["eq", "ne", "exists", "missing"]);
    expect(operatorsFor("list", true)).toContain("contains");
    expect(operatorsFor("text", false)).not.toContain("exists");
    expect(choices.find((c) => c.key === "p:tissue")?.options).toEqual(["liver", "brain"]);
  });
});

describe("the URL", () => {
  it("round-trips every part of the table's state", () => {
    const state: TableState = {
      filter: {
        combine: "or",
        groups: [
          { combine: "and", conditions: [{ field: "p:depth", op: "gte", value: "30" }, { field: "p:sample", op: "contains", value: "a,b&c=d" }] },
          { combine: "or", conditions: [{ field: "p:paired", op: "exists", value: "" }] },
        ],
      },
      q: "liver",
      tags: ["qc", "batch 3"],
      sort: "properties.depth",
      limit: 100,
      cursor: "eyJzIjoiLWNyZWF0ZWRfYXQifQ",
      archived: "include",
    };
    const text = writeUrl(state).toString();
    expect(readUrl(new URLSearchParams(text))).toEqual(state);
  });

  it("keeps the defaults out of the link", () => {
    expect(writeUrl(base).toString()).toBe("");
    expect(readUrl(new URLSearchParams(""))).toEqual(base);
  });

  it("drops what it cannot read instead of failing", () => {
    expect(decodeFilter("not json")).toEqual(EMPTY_FILTER);
    expect(decodeFilter('["and", [["and", [["p:x", "bogus", "1"], ["p:y", "eq", 2]]]]]')).toEqual({
      combine: "and",
      groups: [{ combine: "and", conditions: [{ field: "p:y", op: "eq", value: "2" }] }],
    });
    expect(readUrl(new URLSearchParams("limit=7&archived=everything")).limit).toBe(DEFAULT_LIMIT);
    expect(encodeFilter({ combine: "and", groups: [{ combine: "and", conditions: [] }] })).toBeNull();
  });
});

describe("the API query", () => {
  it("carries type, name search, tags, sort and the filter tree", () => {
    const state: TableState = {
      ...base,
      q: " liver ",
      tags: ["qc"],
      sort: "-properties.depth",
      filter: { combine: "and", groups: [{ combine: "and", conditions: [{ field: "p:depth", op: "gte", value: "30" }] }] },
    };
    const { query, errors } = listQuery(state, "rnaseq", choices);
    expect(errors).toEqual([]);
    expect(query).toEqual({
      type: "rnaseq",
      q: "liver",
      tag: ["qc"],
      sort: "-properties.depth",
      archived: "exclude",
      filter: JSON.stringify({ and: [{ property: "depth", op: "gte", value: 30 }] }),
    });
  });

  it("exports the selection, or else the whole query", () => {
    const { query } = listQuery({ ...base, q: "liver", tags: ["qc"] }, "rnaseq", choices);
    const selected = new URL(exportUrl("lab", query, ["DS-000001", "DS-000002"]), "http://x");
    expect(selected.pathname).toBe("/api/v1/tenants/lab/datasets/export");
    expect(JSON.parse(selected.searchParams.get("filter") ?? "")).toEqual({ field: "id", op: "in", value: ["DS-000001", "DS-000002"] });
    expect(selected.searchParams.get("q")).toBeNull();
    const all = new URL(exportUrl("lab", query, []), "http://x");
    expect(all.searchParams.get("q")).toBe("liver");
    expect(all.searchParams.getAll("tag")).toEqual(["qc"]);
    expect(all.searchParams.get("type")).toBe("rnaseq");
  });

  it("maps the table's sorting to the API's sort and back", () => {
    expect(sortToColumns("-properties.depth")).toEqual([{ id: "properties.depth", desc: true }]);
    expect(columnsToSort([{ id: "name", desc: false }])).toBe("name");
    expect(columnsToSort([])).toBe("-created_at");
  });
});

describe("a link's filter that cannot be read", () => {
  it("says so instead of passing for everything", () => {
    expect(unreadableFilter(null)).toBeNull();
    expect(unreadableFilter('["and",[["and",[["name","eq","x"]]]]]')).toBeNull();
    expect(unreadableFilter('[["and",')).toMatch(/cannot be read.*shown without it/);
    expect(unreadableFilter('{"a":1}')).toMatch(/shown without it/);
    expect(unreadableFilter('["and",[["and",[["name","eq","x"],["name","drop","y"]]]]]')).toMatch(/1 of its 2 conditions are left out/);
    expect(unreadableFilter('["and",[["and",[["name","nope","x"]]]]]')).toMatch(/shown without it/);
  });
});
