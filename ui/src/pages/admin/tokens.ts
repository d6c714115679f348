// API tokens as the tokens page shows them: whether one still works, and the create body.
import type { Schemas } from "../../api/client";

export type Token = Schemas["TokenPublic"];
export type TokenState = "active" | "expired" | "revoked";

export function tokenState(token: Pick<Token, "revoked_at" | "expires_at">, now: Date = new Date()): TokenState {
  if (token.revoked_at) return "revoked";
  if (token.expires_at && new Date(token.expires_at).getTime() <= now.getTime()) return "expired";
  return "active";
}

/** The create body; an empty expiry means "never" (the server may cap it). */
export function tokenCreateBody(name: string, scope: "read" | "write", expiryDays: string): Schemas["TokenCreate"] {
  const days = expiryDays.trim();
  return {
    name: name.trim(),
    scope,
    expires_in_days: days ? Number(days) : null,
  };
}

/** Active tokens first (newest first), then expired and revoked ones. */
export function sortTokens(tokens: Token[], now: Date = new Date()): Token[] {
  const rank: Record<TokenState, number> = { active: 0, expired: 1, revoked: 2 };
  return [...tokens].sort(
    (a, b) =>
      rank[tokenState(a, now)] - rank[tokenState(b, now)] ||
      new Date(b.created_at).getTime() - new Date(a.created_at).getTime(),
  );
}
