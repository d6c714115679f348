// Who is signed in and in which tenant: the user from /api/v1/me, the tenant from the URL
// (/t/:tenant/...), what their role there allows (the server's policy, mirrored only to hide
// actions a role cannot take; the API still decides).
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "./api/client";

export type Role = Schemas["Role"];
export type Permission = "read" | "write" | "launch" | "admin" | "owner";

const ROLE_PERMISSIONS: Record<Role, Permission[]> = {
  viewer: ["read"],
  member: ["read", "write", "launch"],
  admin: ["read", "write", "launch", "admin"],
  owner: ["read", "write", "launch", "admin", "owner"],
};

export function allows(role: Role | null | undefined, permission: Permission): boolean {
  return role ? ROLE_PERMISSIONS[role].includes(permission) : false;
}

export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: () => unwrap(api.GET("/api/v1/me")),
    staleTime: 60_000,
  });
}

export type TenantContext = {
  slug: string;
  tenant: Schemas["TenantPublic"] | undefined;
  role: Role | null;
  can: (permission: Permission) => boolean;
  /** `/t/<slug><path>`: links inside the current tenant. */
  href: (path?: string) => string;
};

export function useTenant(): TenantContext {
  const { tenant: slug = "" } = useParams();
  const me = useMe();
  const tenant = me.data?.tenants.find((t) => t.slug === slug);
  const role = (tenant?.role ?? null) as Role | null;
  return {
    slug,
    tenant,
    role,
    can: (permission) => allows(role, permission),
    href: (path = "") => `/t/${encodeURIComponent(slug)}${path}`,
  };
}

const LAST_TENANT = "mantle.lastTenant";

export function rememberTenant(slug: string): void {
  try {
    localStorage.setItem(LAST_TENANT, slug);
  } catch {
    /* private mode: nothing to remember */
  }
}

export function lastTenant(): string | null {
  try {
    return localStorage.getItem(LAST_TENANT);
  } catch {
    return null;
  }
}
