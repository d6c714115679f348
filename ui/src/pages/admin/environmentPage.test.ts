import { describe, expect, it } from "vitest";
import { kitDescription, kitOrder, splitIds } from "./EnvironmentPage";
import { invitationLink } from "./MembersPage";

describe("setup kit", () => {
  it("puts the README and the stack first", () => {
    expect(kitOrder(["platform-policy.json", "cloudformation.yaml", "README.md", "cors-write-bucket.json"])).toEqual([
      "README.md",
      "cloudformation.yaml",
      "cors-write-bucket.json",
      "platform-policy.json",
    ]);
  });
  it("describes the instance role's inline policies", () => {
    expect(kitDescription("instance-role-s3-policy.json")).toContain('"s3"');
    expect(kitDescription("unknown.txt")).toBe("");
  });
});

describe("provision ids and invitation links", () => {
  it("splits ids on commas and spaces", () => {
    expect(splitIds(" subnet-1, subnet-2\nsubnet-3 ,")).toEqual(["subnet-1", "subnet-2", "subnet-3"]);
  });
  it("links to /invite with the token encoded", () => {
    expect(invitationLink("a+b/c", "https://m.example")).toBe("https://m.example/invite?token=a%2Bb%2Fc");
  });
});
