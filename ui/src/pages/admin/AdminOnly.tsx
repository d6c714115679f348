// What a member without the admin role sees on an admin page: words, not a blank page.
import { Link } from "react-router-dom";
import { Page } from "../../components/ui";
import { useTenant } from "../../session";

export function AdminOnly({ title, what }: { title: string; what: string }) {
  const t = useTenant();
  return (
    <Page title={title}>
      <div className="alert alert-warning admin-only" role="alert" data-testid="admins-only">
        <strong>Admins only.</strong> {what} in <strong>{t.tenant?.name ?? t.slug}</strong> are managed by its
        admins; your role here is <strong>{t.role ?? "none"}</strong>. Ask an admin if you need access.{" "}
        <Link to={t.href()}>Back to home</Link>
      </div>
    </Page>
  );
}
