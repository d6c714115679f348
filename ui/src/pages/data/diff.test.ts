import { describe, expect, it } from "vitest";
import { diffVersions, isEmptyDiff } from "./diff";

const file = (uri: string, size: number) => ({ uri, name: uri.split("/").pop() ?? uri, size, storage: "stored" as const });
const v1 = {
  name: "liver-1",
  properties: { sample: "S1", depth: 30, lanes: [1, 2] },
  files: [file("file:///a/r1.fq", 10), file("file:///a/r2.fq", 20)],
  tags: ["qc", "raw"],
  archived: false,
};

describe("diffVersions", () => {
  it("lists everything as added for the first version", () => {
    const d = diffVersions(null, v1);
    expect(d.properties.map((c) => [c.key, c.kind])).toEqual([
      ["depth", "added"],
      ["lanes", "added"],
      ["sample", "added"],
    ]);
    expect(d.files.map((f) => f.kind)).toEqual(["added", "added"]);
    expect(d.tagsAdded).toEqual(["qc", "raw"]);
    expect(d.name).toBeUndefined();
  });

  it("finds added, removed and changed properties, files and tags", () => {
    const v2 = {
      name: "liver-1b",
      properties: { sample: "S1", depth: 45, tissue: "liver", lanes: [1, 2] },
      files: [file("file:///a/r1.fq", 11), file("file:///a/r3.fq", 5)],
      tags: ["qc", "reviewed"],
      archived: false,
    };
    const d = diffVersions(v1, v2);
    expect(d.name).toEqual({ before: "liver-1", after: "liver-1b" });
    expect(d.properties).toEqual([
      { key: "depth", kind: "changed", before: 30, after: 45 },
      { key: "tissue", kind: "added", after: "liver" },
    ]);
    expect(d.files.map((f) => [f.name, f.kind])).toEqual([
      ["r1.fq", "changed"],
      ["r3.fq", "added"],
      ["r2.fq", "removed"],
    ]);
    expect(d.tagsAdded).toEqual(["reviewed"]);
    expect(d.tagsRemoved).toEqual(["raw"]);
  });

  it("sees a removed property, an archive, and no change at all", () => {
    const { depth: _gone, ...rest } = v1.properties;
    const d = diffVersions(v1, { ...v1, properties: rest, archived: true });
    expect(d.properties).toEqual([{ key: "depth", kind: "removed", before: 30 }]);
    expect(d.archived).toEqual({ before: false, after: true });
    expect(isEmptyDiff(diffVersions(v1, { ...v1, properties: { lanes: [1, 2], depth: 30, sample: "S1" } }))).toBe(true);
  });
});
