import { beforeEach, describe, expect, it } from "vitest";
import { countChecks, groupChecks, lastReport, rememberReport, summarize, type Check } from "./doctor";

const check = (name: string, status: Check["status"], fix = ""): Check => ({ name, status, message: `${name} says`, fix, retryable: false });

const checks: Check[] = [
  check("credentials", "pass"),
  check("bucket acme", "pass"),
  check("write acme", "fail", "allow s3:PutObject"),
  check("cors acme", "warn", "add the CORS rules"),
  check("queue q", "fail", "create the queue"),
  check("compute environments", "pass"),
  check("head job role", "pass"),
  check("something new", "pass"),
];

describe("groupChecks", () => {
  it("groups by what is checked, failures first, the doctor's order kept otherwise", () => {
    const groups = groupChecks(checks);
    expect(groups.map((g) => g.title)).toEqual(["Credentials", "Storage (S3)", "AWS Batch", "Hosts and roles", "Other checks"]);
    expect(groups[1].checks.map((c) => c.name)).toEqual(["write acme", "cors acme", "bucket acme"]);
    expect(groups[1].counts).toEqual({ pass: 1, warn: 1, fail: 1 });
    expect(groups[2].checks.map((c) => c.name)).toEqual(["queue q", "compute environments"]);
  });
  it("leaves out empty groups", () => {
    expect(groupChecks([check("credentials", "fail", "x")]).map((g) => g.title)).toEqual(["Credentials"]);
  });
});

describe("summarize", () => {
  it("says how many failed and warned", () => {
    expect(countChecks(checks)).toEqual({ pass: 5, warn: 1, fail: 2 });
    expect(summarize({ checks })).toBe("2 of 8 checks failed, 1 warning");
    expect(summarize({ checks: [check("a", "pass"), check("b", "warn")] })).toBe("1 of 2 checks passed, 1 warning");
    expect(summarize({ checks: [check("a", "pass")] })).toBe("All 1 checks passed");
  });
});

describe("last report", () => {
  beforeEach(() => localStorage.clear());
  it("is remembered per tenant and environment", () => {
    expect(lastReport("acme", "prod")).toBeNull();
    rememberReport("acme", { environment: "prod", ok: false, checks }, new Date("2026-02-03T04:05:06Z"));
    const last = lastReport("acme", "prod");
    expect(last).toMatchObject({ ok: false, at: "2026-02-03T04:05:06.000Z", counts: { fail: 2 } });
    expect(lastReport("other", "prod")).toBeNull();
  });
  it("ignores a damaged entry", () => {
    localStorage.setItem("mantle.doctor.acme.prod", "{not json");
    expect(lastReport("acme", "prod")).toBeNull();
  });
});
