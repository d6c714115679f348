import { describe, expect, it } from "vitest";
import { ApiError, apiError, csrfToken, problemLines } from "./client";

describe("csrfToken", () => {
  it("reads the CSRF cookie among others", () => {
    expect(csrfToken("a=1; mantle_csrf=abc%3D%3D; b=2")).toBe("abc==");
  });
  it("is empty without the cookie", () => {
    expect(csrfToken("a=1")).toBe("");
  });
});

describe("apiError", () => {
  it("keeps the API's message and details", () => {
    const e = apiError(422, { error: { code: "invalid_input", message: "bad", details: [{ loc: ["body", "name"], msg: "too long" }] } });
    expect(e).toBeInstanceOf(ApiError);
    expect(e.message).toBe("bad");
    expect(problemLines(e.details)).toEqual(["name: too long"]);
  });
  it("words a body that is not the API's", () => {
    expect(apiError(502, "<html>").message).toMatch(/server failed \(HTTP 502\)/);
    expect(apiError(0, null).message).toMatch(/cannot be reached/);
  });
  it("names pipeline params in problems", () => {
    expect(problemLines([{ param: "min_reads", rule: "minimum", message: "must be >= 1" }])).toEqual(["min_reads: must be >= 1"]);
  });
});
