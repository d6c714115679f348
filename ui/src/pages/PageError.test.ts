import { describe, expect, it } from "vitest";
import { pageErrorMessage } from "./PageError";

describe("pageErrorMessage", () => {
  it("tells to reload when a page's code could not be fetched", () => {
    const chunk = new TypeError("Failed to fetch dynamically imported module: http://x/assets/RunsPage-abc.js");
    expect(pageErrorMessage(chunk).title).toBe("This page could not be loaded");
    expect(pageErrorMessage(chunk).text).toMatch(/Reload the page/);
  });
  it("words any other failure with its message", () => {
    expect(pageErrorMessage(new Error("x is undefined")).text).toMatch(/\(x is undefined\)/);
    expect(pageErrorMessage(null).title).toBe("This page failed");
  });
});
