import { describe, expect, it } from "vitest";
import { sortTokens, tokenCreateBody, tokenState, type Token } from "./tokens";

const now = new Date("2026-06-01T00:00:00Z");
const token = (name: string, o: Partial<Token> = {}): Token => ({
  id: name,
  name,
  prefix: "mt_x",
  scope: "write",
  user_email: "a@b.c",
  created_at: "2026-05-01T00:00:00Z",
  expires_at: null,
  last_used_at: null,
  revoked_at: null,
  ...o,
});

describe("tokens", () => {
  it("tells active, expired and revoked apart", () => {
    expect(tokenState(token("a"), now)).toBe("active");
    expect(tokenState(token("b", { expires_at: "2026-05-31T00:00:00Z" }), now)).toBe("expired");
    expect(tokenState(token("c", { revoked_at: "2026-05-02T00:00:00Z", expires_at: "2026-05-31T00:00:00Z" }), now)).toBe("revoked");
  });
  it("lists active tokens first, newest first", () => {
    const list = [
      token("old", { created_at: "2026-01-01T00:00:00Z" }),
      token("revoked", { revoked_at: "2026-05-02T00:00:00Z", created_at: "2026-05-30T00:00:00Z" }),
      token("new", { created_at: "2026-05-20T00:00:00Z" }),
    ];
    expect(sortTokens(list, now).map((t) => t.name)).toEqual(["new", "old", "revoked"]);
  });
  it("builds the create body; no days means never", () => {
    expect(tokenCreateBody(" ci ", "read", "30")).toEqual({ name: "ci", scope: "read", expires_in_days: 30 });
    expect(tokenCreateBody("ci", "write", " ")).toEqual({ name: "ci", scope: "write", expires_in_days: null });
  });
});
