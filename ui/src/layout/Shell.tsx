// The frame around every page: brand, tenant switcher, navigation (each entry only for roles
// that can use it), the user's menu (API tokens, sign out). Sign-out posts the server's /logout form with
// the CSRF token, which ends the cookie session.
import { Suspense, useEffect, useRef } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { csrfToken } from "../api/client";
import { ErrorMessage, Loading } from "../components/ui";
import { type Permission, rememberTenant, useMe, useTenant } from "../session";

const NAV: Array<{ path: string; label: string; needs?: Permission }> = [
  { path: "", label: "Home" },
  { path: "/data", label: "Data" },
  { path: "/upload", label: "Upload", needs: "write" },
  { path: "/import", label: "Import", needs: "write" },
  { path: "/pipelines", label: "Pipelines" },
  { path: "/runs", label: "Runs" },
  { path: "/environments", label: "Environments", needs: "admin" },
  { path: "/members", label: "Members", needs: "admin" },
];

export function Shell() {
  const me = useMe();
  const t = useTenant();
  const navigate = useNavigate();
  const location = useLocation();
  useEffect(() => {
    if (t.tenant) rememberTenant(t.slug);
  }, [t.slug, t.tenant]);
  // The user menu closes once one of its links took the user to another page.
  const userMenu = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    if (userMenu.current) userMenu.current.open = false;
  }, [location.pathname]);

  if (me.isPending) return <Loading label="Signing in…" />;
  if (me.error) return <ErrorMessage error={me.error} />;
  const user = me.data.user;
  const tenants = me.data.tenants;

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to={t.href()} className="brand" end>
          Mantle
        </NavLink>
        <label className="tenant-switch">
          <span className="visually-hidden">Tenant</span>
          <select
            aria-label="Tenant"
            value={t.slug}
            onChange={(e) => {
              const rest = location.pathname.split("/").slice(3, 4).join("/");
              navigate(`/t/${encodeURIComponent(e.target.value)}${rest ? `/${rest}` : ""}`);
            }}
          >
            {tenants.map((tenant) => (
              <option key={tenant.slug} value={tenant.slug}>
                {tenant.name}
              </option>
            ))}
          </select>
        </label>
        <nav className="mainnav" aria-label="Main">
          {NAV.filter((item) => !item.needs || t.can(item.needs)).map((item) => (
            <NavLink key={item.path} to={t.href(item.path)} end={item.path === ""}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <details className="usermenu" ref={userMenu}>
          <summary data-testid="who">{user.email}</summary>
          <div className="usermenu-panel">
            <p className="muted">
              {user.name || user.email}
              {t.role && <> · {t.role}</>}
            </p>
            <NavLink to={t.href("/tokens")}>API tokens</NavLink>
            <a href="/docs">API reference</a>
            <form method="post" action="/logout">
              <input type="hidden" name="csrf_token" value={csrfToken()} />
              <button type="submit" className="btn btn-ghost">
                Sign out
              </button>
            </form>
          </div>
        </details>
      </header>
      <main id="main" className="main">
        {t.tenant ? (
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        ) : (
          <ErrorMessage error={new Error(`There is no tenant "${t.slug}" you are a member of. Pick one from the list above.`)} />
        )}
      </main>
    </div>
  );
}
