// Members and roles of the tenant (admins): change a role, remove someone, invite by email (the
// invitation link is shown once), pending invitations with revoke.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { DataTable, type ColumnDef } from "../../components/DataTable";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Button, CopyButton, EmptyState, ErrorMessage, Field, Loading, Notice, Page, Section } from "../../components/ui";
import { formatDate } from "../../format";
import { useMe, useTenant, type Role } from "../../session";
import { AdminOnly } from "./AdminOnly";
import "./admin.css";

type Member = Schemas["MemberPublic"];
type Invitation = Schemas["InvitationPublic"];
type InvitationCreated = Schemas["InvitationCreated"];

const ROLES: Array<{ role: Role; says: string }> = [
  { role: "viewer", says: "looks at data and runs" },
  { role: "member", says: "also uploads, imports and launches" },
  { role: "admin", says: "also manages members and environments" },
  { role: "owner", says: "also manages owners" },
];

export function invitationLink(token: string, origin: string = window.location.origin): string {
  return `${origin}/invite?token=${encodeURIComponent(token)}`;
}

export default function MembersPage() {
  const t = useTenant();
  if (!t.can("admin")) return <AdminOnly title="Members" what="Members and their roles" />;
  return <Members />;
}

function Members() {
  const t = useTenant();
  const me = useMe();
  const queryClient = useQueryClient();
  const grantable = ROLES.filter((r) => r.role !== "owner" || t.can("owner"));
  const [removing, setRemoving] = useState<Member | null>(null);
  const [invited, setInvited] = useState<InvitationCreated | null>(null);

  const members = useQuery({
    queryKey: ["members", t.slug],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/members", { params: { path: { tenant: t.slug } } })),
  });
  const invitations = useQuery({
    queryKey: ["invitations", t.slug],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/invitations", { params: { path: { tenant: t.slug } } })),
  });
  const changeRole = useMutation({
    mutationFn: (v: { member: Member; role: Role }) =>
      unwrap(
        api.PATCH("/api/v1/tenants/{tenant}/members/{user_id}", {
          params: { path: { tenant: t.slug, user_id: v.member.user_id } },
          body: { role: v.role },
        }),
      ),
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: ["members", t.slug] });
      void queryClient.invalidateQueries({ queryKey: ["me"] });
    },
  });
  const remove = useMutation({
    mutationFn: (member: Member) =>
      unwrap(api.DELETE("/api/v1/tenants/{tenant}/members/{user_id}", { params: { path: { tenant: t.slug, user_id: member.user_id } } })),
    onSuccess: () => {
      setRemoving(null);
      void queryClient.invalidateQueries({ queryKey: ["members", t.slug] });
    },
  });
  const revoke = useMutation({
    mutationFn: (invitation: Invitation) =>
      unwrap(
        api.DELETE("/api/v1/tenants/{tenant}/invitations/{invitation_id}", {
          params: { path: { tenant: t.slug, invitation_id: invitation.id } },
        }),
      ),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ["invitations", t.slug] }),
  });

  const myId = me.data?.user.id;
  const memberColumns: ColumnDef<Member>[] = [
    {
      header: "Name",
      accessorKey: "name",
      cell: ({ row }) => (
        <>
          {row.original.name || <span className="muted">—</span>}
          {row.original.user_id === myId && <span className="muted"> (you)</span>}
        </>
      ),
    },
    { header: "Email", accessorKey: "email" },
    {
      header: "Role",
      accessorKey: "role",
      cell: ({ row }) => {
        const m = row.original;
        const locked = m.role === "owner" && !t.can("owner");
        return (
          <select
            className="select-small"
            aria-label={`Role of ${m.email}`}
            value={m.role}
            disabled={locked || changeRole.isPending}
            title={locked ? "Only an owner can change an owner's role" : undefined}
            onChange={(e) => changeRole.mutate({ member: m, role: e.target.value as Role })}
          >
            {(locked ? ROLES : grantable).map((r) => (
              <option key={r.role} value={r.role}>
                {r.role}
              </option>
            ))}
          </select>
        );
      },
    },
    { header: "Member since", accessorKey: "created_at", cell: ({ getValue }) => <span className="nowrap">{formatDate(getValue<string>())}</span> },
    {
      id: "actions",
      header: () => <span className="visually-hidden">Actions</span>,
      cell: ({ row }) => (
        <Button variant="danger" className="btn-small" onClick={() => setRemoving(row.original)} aria-label={`Remove ${row.original.email}`}>
          Remove
        </Button>
      ),
    },
  ];
  const invitationColumns: ColumnDef<Invitation>[] = [
    { header: "Email", accessorKey: "email" },
    { header: "Role", accessorKey: "role" },
    { header: "Invited by", accessorKey: "invited_by", cell: ({ getValue }) => getValue<string | null>() ?? "—" },
    { header: "Sent", accessorKey: "created_at", cell: ({ getValue }) => <span className="nowrap">{formatDate(getValue<string>())}</span> },
    { header: "Expires", accessorKey: "expires_at", cell: ({ getValue }) => <span className="nowrap">{formatDate(getValue<string>())}</span> },
    {
      id: "actions",
      header: () => <span className="visually-hidden">Actions</span>,
      cell: ({ row }) => (
        <Button
          variant="danger"
          className="btn-small"
          busy={revoke.isPending && revoke.variables?.id === row.original.id}
          onClick={() => revoke.mutate(row.original)}
          aria-label={`Revoke the invitation of ${row.original.email}`}
        >
          Revoke
        </Button>
      ),
    },
  ];

  return (
    <Page title="Members" subtitle={<>Who can use <strong>{t.tenant?.name}</strong>, and what their role lets them do.</>}>
      <Section title="Members" testId="members">
        <p className="muted">
          {ROLES.map((r, i) => (
            <span key={r.role}>
              <strong>{r.role}</strong> {r.says}
              {i < ROLES.length - 1 ? "; " : "."}
            </span>
          ))}
        </p>
        <ErrorMessage error={changeRole.error} title={changeRole.variables ? `Could not change the role of ${changeRole.variables.member.email}` : undefined} />
        {members.isPending ? (
          <Loading />
        ) : members.error ? (
          <ErrorMessage error={members.error} />
        ) : (
          <DataTable label="Members" testId="members-table" data={members.data} columns={memberColumns} getRowId={(m) => m.user_id} />
        )}
      </Section>

      <div className="stack members-lower">
        {invited ? (
          <InvitationLink invitation={invited} onDone={() => setInvited(null)} />
        ) : (
          <InviteForm
            tenant={t.slug}
            roles={grantable.map((r) => r.role)}
            onInvited={(inv) => {
              setInvited(inv);
              void queryClient.invalidateQueries({ queryKey: ["invitations", t.slug] });
            }}
          />
        )}
        <Section title="Pending invitations" testId="invitations">
          <ErrorMessage error={revoke.error} />
          {invitations.isPending ? (
            <Loading />
          ) : invitations.error ? (
            <ErrorMessage error={invitations.error} />
          ) : (
            <DataTable
              label="Pending invitations"
              data={invitations.data}
              columns={invitationColumns}
              getRowId={(i) => i.id}
              empty={<EmptyState title="No pending invitations">Invite a colleague by email; they get a link to join.</EmptyState>}
            />
          )}
        </Section>
      </div>

      <ConfirmDialog
        open={removing !== null}
        title="Remove this member?"
        confirm="Remove member"
        onConfirm={() => removing && remove.mutate(removing)}
        onClose={() => {
          setRemoving(null);
          remove.reset();
        }}
        busy={remove.isPending}
        error={remove.error}
        errorTitle="Not removed"
      >
        {removing && (
          <p>
            <strong>{removing.name || removing.email}</strong> ({removing.email}) loses access to {t.tenant?.name} at once. Their
            datasets and runs stay. You can invite them again later.
          </p>
        )}
      </ConfirmDialog>
    </Page>
  );
}

function InviteForm(props: { tenant: string; roles: Role[]; onInvited: (inv: InvitationCreated) => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const invite = useMutation({
    // The answer holds a secret shown once: not kept in the mutation cache after the page.
    gcTime: 0,
    mutationFn: () =>
      unwrap(api.POST("/api/v1/tenants/{tenant}/invitations", { params: { path: { tenant: props.tenant } }, body: { email: email.trim(), role } })),
    onSuccess: (inv) => {
      setEmail("");
      props.onInvited(inv);
    },
  });
  return (
    <Section title="Invite someone">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          invite.mutate();
        }}
      >
        <div className="form-row">
          <Field label="Email">
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} placeholder="name@lab.org" autoComplete="off" />
          </Field>
          <Field label="Role">
            <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {props.roles.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <ErrorMessage error={invite.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={invite.isPending}>
            Create invitation link
          </Button>
        </div>
      </form>
    </Section>
  );
}

function InvitationLink({ invitation, onDone }: { invitation: InvitationCreated; onDone: () => void }) {
  const link = invitationLink(invitation.token);
  return (
    <Section title={`Invitation for ${invitation.email}`} testId="invitation-created">
      <div className="secret-once">
        <Notice kind="warning">
          <strong>Send this link to {invitation.email} now: it is shown only once.</strong> It lets them join as{" "}
          <strong>{invitation.role}</strong> until {formatDate(invitation.expires_at)}. Mantle sends no email itself.
        </Notice>
        <div className="secret-value">
          <code data-testid="invitation-link">{link}</code>
          <CopyButton text={link} label="Copy link" />
        </div>
        <div className="form-actions">
          <Button variant="primary" onClick={onDone}>
            Done
          </Button>
        </div>
      </div>
    </Section>
  );
}
