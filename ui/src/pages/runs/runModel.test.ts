import { describe, expect, it } from "vitest";
import { anyActive, buildTimeline, failureLine, filtersFromSearch, filtersToSearch, highlight, isActive, runActions, runSeconds, searchLog } from "./runModel";

describe("status helpers", () => {
  it("knows which statuses still move", () => {
    expect(["QUEUED", "SUBMITTED", "RUNNING"].every(isActive)).toBe(true);
    expect(["SUCCEEDED", "FAILED", "CANCELLED"].some(isActive)).toBe(false);
    expect(anyActive([{ status: "SUCCEEDED" }, { status: "RUNNING" }])).toBe(true);
  });

  it("measures a run from its start", () => {
    const base = { submitted_at: "2026-01-01T10:00:00Z", started_at: "2026-01-01T10:00:10Z" };
    expect(runSeconds({ ...base, finished_at: "2026-01-01T10:01:10Z", status: "SUCCEEDED" })).toBe(60);
    expect(runSeconds({ ...base, finished_at: null, status: "RUNNING" }, new Date("2026-01-01T10:00:40Z"))).toBe(30);
    expect(runSeconds({ submitted_at: null, started_at: null, finished_at: null, status: "QUEUED" })).toBeNull();
  });

  it("gives the first line of a failure's reason", () => {
    expect(failureLine({ status: "FAILED", status_reason: "\nprocess FASTQC failed (exit 1)\nmore" })).toBe("process FASTQC failed (exit 1)");
    expect(failureLine({ status: "FAILED", status_reason: "" })).toMatch(/logs/);
    expect(failureLine({ status: "SUCCEEDED", status_reason: "done" })).toBeNull();
  });

  it("offers the actions the API allows", () => {
    const member = (p: string) => p === "launch";
    const admin = () => true;
    const viewer = () => false;
    const run = { status: "RUNNING", created_by: "Ann@lab.org", engine: "nextflow" };
    expect(runActions(run, { email: "ann@lab.org" }, member).cancel).toBe(true);
    expect(runActions(run, { email: "bob@lab.org" }, member).cancel).toBe(false);
    expect(runActions(run, { email: "bob@lab.org" }, admin).cancel).toBe(true);
    expect(runActions(run, { email: "ann@lab.org" }, viewer)).toEqual({ cancel: false, relaunch: false, resume: false });
    expect(runActions({ ...run, status: "FAILED" }, { email: "x" }, member)).toEqual({ cancel: false, relaunch: true, resume: true });
    expect(runActions({ ...run, status: "FAILED", engine: "script" }, { email: "x" }, member).resume).toBe(false);
  });
});

describe("buildTimeline", () => {
  it("orders the transitions and says how long each state lasted", () => {
    const steps = buildTimeline(
      [
        { seq: 2, from_status: "QUEUED", to_status: "SUBMITTED", reason: "submitted as j1", at: "2026-01-01T10:00:02Z" },
        { seq: 1, from_status: null, to_status: "QUEUED", reason: "launched by ann", at: "2026-01-01T10:00:00Z" },
        { seq: 3, from_status: "SUBMITTED", to_status: "RUNNING", reason: "", at: "2026-01-01T10:00:05Z" },
      ],
      new Date("2026-01-01T10:01:05Z"),
    );
    expect(steps.map((s) => [s.status, s.seconds, s.current])).toEqual([
      ["QUEUED", 2, false],
      ["SUBMITTED", 3, false],
      ["RUNNING", 60, true],
    ]);
  });

  it("gives a final state no duration", () => {
    const steps = buildTimeline([{ seq: 1, from_status: "RUNNING", to_status: "FAILED", reason: "exit 1", at: "2026-01-01T10:00:00Z" }]);
    expect(steps[0].seconds).toBeNull();
  });
});

describe("log search", () => {
  const lines = ["Launching `main.nf`", "[ab/12] process > FASTQC (S1) [100%]", "ERROR ~ Error executing process > FASTQC"].map((message) => ({ message, timestamp: null }));

  it("keeps the lines with every word, any case, with their numbers", () => {
    expect(searchLog(lines, "fastqc error").map((m) => m.index)).toEqual([2]);
    expect(searchLog(lines, "").length).toBe(3);
  });

  it("marks the words found", () => {
    expect(highlight("Error executing (FASTQC)", "fastqc")).toEqual([
      { text: "Error executing (", hit: false },
      { text: "FASTQC", hit: true },
      { text: ")", hit: false },
    ]);
    expect(highlight("a.b", ".")).toEqual([{ text: "a", hit: false }, { text: ".", hit: true }, { text: "b", hit: false }]);
  });
});

describe("filters in the URL", () => {
  it("round-trips", () => {
    const f = { status: ["RUNNING", "FAILED"], pipeline: "rnaseq", createdBy: "a@b.c", since: "2026-01-01T00:00", until: "" };
    expect(filtersFromSearch(filtersToSearch(f))).toEqual(f);
    expect(filtersFromSearch(new URLSearchParams("status=BOGUS")).status).toEqual([]);
  });
});
