// The tenant's short lists that several pages read (data types, environments, pipelines): one
// query key each, so a change made on one page (invalidating that key) shows on every other.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { useTenant } from "../session";

export function useDataTypes(options: { staleTime?: number } = {}) {
  const t = useTenant();
  return useQuery({
    queryKey: ["data-types", t.slug],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/data-types", { params: { path: { tenant: t.slug } } })),
    ...options,
  });
}

export function useEnvironments() {
  const t = useTenant();
  return useQuery({
    queryKey: ["environments", t.slug],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/environments", { params: { path: { tenant: t.slug } } })),
  });
}

export function usePipelines() {
  const t = useTenant();
  return useQuery({
    queryKey: ["pipelines", t.slug],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/pipelines", { params: { path: { tenant: t.slug } } })),
  });
}
