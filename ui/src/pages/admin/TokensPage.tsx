// API tokens of the signed-in user (admins: everyone's, on request): create one (shown once,
// with a copy button), see when each was used, revoke with a confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { DataTable, type ColumnDef } from "../../components/DataTable";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Button, CopyButton, EmptyState, ErrorMessage, Field, Loading, Notice, Page, Section } from "../../components/ui";
import { formatDate } from "../../format";
import { useMe, useTenant } from "../../session";
import { sortTokens, tokenCreateBody, tokenState, type Token } from "./tokens";
import "./admin.css";

type Created = Schemas["TokenCreated"];

export default function TokensPage() {
  const t = useTenant();
  const me = useMe();
  const queryClient = useQueryClient();
  const [everyone, setEveryone] = useState(false);
  const [created, setCreated] = useState<Created | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const showEveryone = everyone && t.can("admin");

  const tokens = useQuery({
    queryKey: ["tokens", t.slug, showEveryone],
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/tokens", { params: { path: { tenant: t.slug }, query: { all: showEveryone } } })),
  });
  const revoke = useMutation({
    mutationFn: (token: Token) =>
      unwrap(api.DELETE("/api/v1/tenants/{tenant}/tokens/{token_id}", { params: { path: { tenant: t.slug, token_id: token.id } } })),
    onSuccess: () => {
      setRevoking(null);
      void queryClient.invalidateQueries({ queryKey: ["tokens", t.slug] });
    },
  });

  const columns: ColumnDef<Token>[] = [
    {
      header: "Name",
      accessorKey: "name",
      cell: ({ row }) => (
        <>
          <strong>{row.original.name}</strong> <code className="muted">{row.original.prefix}…</code>
        </>
      ),
    },
    ...(showEveryone ? [{ header: "Owner", accessorKey: "user_email" } as ColumnDef<Token>] : []),
    { header: "Scope", accessorKey: "scope" },
    {
      header: "Status",
      id: "state",
      cell: ({ row }) => {
        const state = tokenState(row.original);
        const tone = state === "active" ? "success" : state === "revoked" ? "danger" : "neutral";
        return <span className={`badge badge-${tone}`}>{state}</span>;
      },
    },
    { header: "Created", accessorKey: "created_at", cell: ({ getValue }) => <span className="nowrap">{formatDate(getValue<string>())}</span> },
    {
      header: "Last used",
      accessorKey: "last_used_at",
      cell: ({ getValue }) => (getValue<string | null>() ? formatDate(getValue<string>()) : <span className="muted">never</span>),
    },
    {
      header: "Expires",
      accessorKey: "expires_at",
      cell: ({ getValue }) => (getValue<string | null>() ? formatDate(getValue<string>()) : <span className="muted">never</span>),
    },
    {
      header: "Revoked",
      accessorKey: "revoked_at",
      cell: ({ getValue }) => (getValue<string | null>() ? formatDate(getValue<string>()) : "—"),
    },
    {
      id: "actions",
      header: () => <span className="visually-hidden">Actions</span>,
      cell: ({ row }) =>
        tokenState(row.original) === "revoked" ? null : (
          <Button variant="danger" className="btn-small" onClick={() => setRevoking(row.original)} aria-label={`Revoke ${row.original.name}`}>
            Revoke
          </Button>
        ),
    },
  ];

  return (
    <Page
      title="API tokens"
      subtitle={
        <>
          Tokens let scripts, the <code>mantle</code> CLI and the Python SDK act as you in <strong>{t.tenant?.name}</strong>
          {me.data && <> ({me.data.user.email})</>}. Send one as <code>Authorization: Bearer &lt;token&gt;</code>.
        </>
      }
    >
      {created ? (
        <CreatedToken token={created} onDone={() => setCreated(null)} />
      ) : (
        <CreateToken
          tenant={t.slug}
          onCreated={(token) => {
            setCreated(token);
            void queryClient.invalidateQueries({ queryKey: ["tokens", t.slug] });
          }}
        />
      )}
      <Section
        title={showEveryone ? "Everyone's tokens" : "Your tokens"}
        actions={
          t.can("admin") ? (
            <label className="check-row">
              <input type="checkbox" checked={everyone} onChange={(e) => setEveryone(e.target.checked)} /> Show every member's tokens
            </label>
          ) : undefined
        }
      >
        {tokens.isPending ? (
          <Loading />
        ) : tokens.error ? (
          <ErrorMessage error={tokens.error} />
        ) : (
          <DataTable
            label="API tokens"
            testId="tokens"
            data={sortTokens(tokens.data)}
            columns={columns}
            getRowId={(row) => row.id}
            empty={<EmptyState title="No API tokens yet">Create one above to use the CLI, the Python SDK or the REST API from a script.</EmptyState>}
          />
        )}
      </Section>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this token?"
        confirm="Revoke token"
        onConfirm={() => revoking && revoke.mutate(revoking)}
        onClose={() => {
          setRevoking(null);
          revoke.reset();
        }}
        busy={revoke.isPending}
        error={revoke.error}
      >
        {revoking && (
          <p>
            <strong>{revoking.name}</strong> ({revoking.prefix}…{showEveryone ? `, ${revoking.user_email}` : ""}) stops working at once:
            every script or CLI using it will get "401 unauthorized". This cannot be undone.
          </p>
        )}
      </ConfirmDialog>
    </Page>
  );
}

function CreateToken({ tenant, onCreated }: { tenant: string; onCreated: (token: Created) => void }) {
  const [name, setName] = useState("");
  const [scope, setScope] = useState<"read" | "write">("write");
  const [days, setDays] = useState("90");
  const [nameError, setNameError] = useState<string | null>(null);
  const create = useMutation({
    // The answer holds a secret shown once: not kept in the mutation cache after the page.
    gcTime: 0,
    mutationFn: () =>
      unwrap(api.POST("/api/v1/tenants/{tenant}/tokens", { params: { path: { tenant } }, body: tokenCreateBody(name, scope, days) })),
    onSuccess: (token) => {
      setName("");
      onCreated(token);
    },
  });
  return (
    <Section title="Create a token">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!name.trim()) {
            setNameError("Name the token after where it will be used, e.g. “laptop CLI”.");
            return;
          }
          setNameError(null);
          create.mutate();
        }}
      >
        <div className="form-row">
          <Field label="Name" hint="Where it will be used." error={nameError}>
            <input type="text" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} placeholder="e.g. laptop CLI" />
          </Field>
          <Field label="Scope" hint="Read: look only. Write: also change and launch (never more than your role).">
            <select value={scope} onChange={(e) => setScope(e.target.value as "read" | "write")}>
              <option value="write">write</option>
              <option value="read">read</option>
            </select>
          </Field>
          <Field label="Expires in (days)" hint="Empty: never (the server may cap it).">
            <input type="number" min={1} max={3660} value={days} onChange={(e) => setDays(e.target.value)} />
          </Field>
        </div>
        <ErrorMessage error={create.error} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create token
          </Button>
        </div>
      </form>
    </Section>
  );
}

function CreatedToken({ token, onDone }: { token: Created; onDone: () => void }) {
  return (
    <Section title={`Token “${token.name}” created`} testId="token-created">
      <div className="secret-once">
        <Notice kind="warning">
          <strong>Copy it now: it is shown only once.</strong> Mantle keeps only a digest of it; if you lose it, revoke it and
          create another. Treat it like a password.
        </Notice>
        <div className="secret-value">
          <code data-testid="new-token">{token.token}</code>
          <CopyButton text={token.token} label="Copy token" />
        </div>
        <p className="muted">
          Scope <strong>{token.scope}</strong>, expires {token.expires_at ? formatDate(token.expires_at) : "never"}. Use it with{" "}
          <code>mantle login {window.location.origin} --token …</code> or as <code>Authorization: Bearer &lt;token&gt;</code>.
        </p>
        <div className="form-actions">
          <Button variant="primary" onClick={onDone}>
            Done, I copied it
          </Button>
        </div>
      </div>
    </Section>
  );
}
