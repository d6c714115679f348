import { describe, expect, it } from "vitest";
import { IdempotencyKeys, buildQuery, launchBody, selectionFromSearch } from "./launchModel";

describe("buildQuery", () => {
  it("writes the API's short form", () => {
    const { query, errors } = buildQuery("fastq_pair", [
      { property: "sample", op: "in", value: "S1, S2" },
      { property: "depth", op: ">=", value: "30" },
      { property: "lane", op: "?", value: "" },
      { property: "", op: "=", value: "ignored" },
    ]);
    expect(errors).toEqual([]);
    expect(query).toBe("type=fastq_pair,sample=[S1,S2],depth>=30,lane?");
  });

  it("refuses what the short form cannot say", () => {
    const { query, errors } = buildQuery("", [
      { property: "sample", op: "=", value: "a,b" },
      { property: "1bad", op: "=", value: "x" },
      { property: "depth", op: ">", value: " " },
    ]);
    expect(query).toBe("");
    expect(errors).toHaveLength(3);
  });
});

describe("selection and body", () => {
  it("reads ?datasets= once each, comma-separated or repeated", () => {
    expect(selectionFromSearch(new URLSearchParams("datasets=DS-1,DS-2&datasets=DS-2,DS-3"))).toEqual(["DS-1", "DS-2", "DS-3"]);
  });

  it("sends the selection or the query", () => {
    const base = { pipeline: "p", version: null, environment: "local", params: {}, name: " x " };
    expect(launchBody({ ...base, inputs: { mode: "selection", datasets: ["DS-1"] } }).inputs).toEqual({ datasets: ["DS-1"] });
    const body = launchBody({ ...base, inputs: { mode: "query", query: "type=file" } });
    expect(body.inputs).toEqual({ datasets: [], query: "type=file" });
    expect(body.name).toBe("x");
  });

  it("keeps one idempotency key per body", () => {
    let n = 0;
    const keys = new IdempotencyKeys(() => `k${++n}`);
    expect(keys.keyFor({ a: 1, b: [1] })).toBe("k1");
    expect(keys.keyFor({ b: [1], a: 1 })).toBe("k1"); // a double click: the same key
    expect(keys.keyFor({ a: 2, b: [1] })).toBe("k2"); // changed: a new run
  });
});
