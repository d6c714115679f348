import { describe, expect, it } from "vitest";
import type { PropertyDef } from "./filters";
import { changes, conflictRows, draftOf, isEmptyPatch } from "./edit";

const defs: PropertyDef[] = [
  { name: "sample", type: "string", required: true, description: "", enum: null, items: null },
  { name: "depth", type: "integer", required: false, description: "", enum: null, items: null },
  { name: "lanes", type: "list", required: false, description: "", enum: null, items: "integer" },
];
const dataset = { name: "d1", properties: { sample: "S1", depth: 30, lanes: [1, 2], extra: 1.5 }, tags: ["qc"] };

describe("the edit form", () => {
  it("sends nothing when nothing changed", () => {
    expect(isEmptyPatch(changes(dataset, draftOf(dataset, defs), defs))).toBe(true);
  });

  it("sends only the changed properties, typed, and null to remove one", () => {
    const draft = draftOf(dataset, defs);
    draft.properties.depth = "45";
    draft.properties.lanes = "3, 4";
    draft.properties.extra = "";
    draft.tags = "qc, reviewed";
    expect(changes(dataset, draft, defs)).toEqual({ properties: { depth: 45, lanes: [3, 4], extra: null }, tags: ["qc", "reviewed"] });
  });

  it("refuses a value that is not of the property's type, in words", () => {
    const draft = draftOf(dataset, defs);
    draft.properties.depth = "deep";
    expect(() => changes(dataset, draft, defs)).toThrow('depth: "deep" is not a number');
  });

  it("shows the user's values beside the newer ones", () => {
    const latest = { ...dataset, properties: { ...dataset.properties, depth: 50 } };
    expect(conflictRows(dataset, latest, { properties: { depth: 45 } })).toEqual([{ field: "depth", yours: "45", theirs: "50", base: "30" }]);
  });
});
