// /invite?token=...: accepting an invitation. Outside the tenant frame: the visitor may have no
// account yet. Signed out: set a name and password (POST /invitations/signup), then sign in
// with them and open the tenant; or sign in first with an existing account. Signed in: accept
// (POST /invitations/accept) and open the tenant.
//
// The typed client sends a signed-out browser to /login on any 401, which is right everywhere
// but here: this page finds out who is signed in with plain fetch, and only asks at all when
// the browser holds a session's CSRF cookie (no request, so no 401 in the console, otherwise).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { api, apiError, csrfToken, unwrap, type Schemas } from "../../api/client";
import { Button, ErrorMessage, Field, Loading, Notice } from "../../components/ui";
import "./invite.css";

type WhoAmI = Schemas["WhoAmI"];

async function whoAmI(): Promise<WhoAmI | null> {
  if (!csrfToken()) return null;
  const response = await fetch("/api/v1/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) return null;
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw apiError(response.status, body);
  return body as WhoAmI;
}

/** Signs the browser in with JSON (no redirect on a wrong password: it is answered here). */
async function signIn(email: string, password: string): Promise<void> {
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw apiError(response.status, await response.json().catch(() => null));
}

export function loginHref(token: string): string {
  return `/login?next=${encodeURIComponent(`/invite?token=${encodeURIComponent(token)}`)}`;
}

export default function InvitePage() {
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const me = useQuery({ queryKey: ["invite", "me"], queryFn: whoAmI, retry: false, staleTime: Infinity });
  useEffect(() => {
    document.title = "Join a team · Mantle";
  }, []);

  let body;
  if (!token) {
    body = (
      <ErrorMessage error={new Error("This invitation link has no token. Open the full link you were sent, or ask the admin who invited you for a new one.")} />
    );
  } else if (me.isPending) {
    body = <Loading />;
  } else if (me.error) {
    body = <ErrorMessage error={me.error} />;
  } else if (me.data) {
    body = <Accept token={token} me={me.data} />;
  } else {
    body = <SignUp token={token} />;
  }
  return (
    <main className="auth-page">
      <div className="auth-card card" data-testid="invite">
        <p className="auth-brand">
          <img src="/static/favicon.svg" alt="" />
          Mantle
        </p>
        <h1>You are invited</h1>
        {body}
      </div>
    </main>
  );
}

function Accept({ token, me }: { token: string; me: WhoAmI }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const accept = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/invitations/accept", { body: { token } })),
    onSuccess: (tenant) => {
      queryClient.removeQueries({ queryKey: ["me"] });
      // replace: the invitation link (its token) does not stay in the tab's history
      navigate(`/t/${encodeURIComponent(tenant.slug)}`, { replace: true });
    },
  });
  return (
    <div className="stack">
      <p>
        You are signed in as <strong data-testid="who">{me.user.email}</strong>. Accept to join the team that invited this address.
      </p>
      <ErrorMessage error={accept.error} title="Not accepted" />
      <div className="auth-actions">
        <Button variant="primary" busy={accept.isPending} onClick={() => accept.mutate()}>
          Accept invitation
        </Button>
      </div>
      <form method="post" action="/logout" className="auth-alt">
        <input type="hidden" name="csrf_token" value={csrfToken()} />
        Invited under another address?{" "}
        <button type="submit" className="linklike">
          Sign out
        </button>{" "}
        and open the link again.
      </form>
    </div>
  );
}

function SignUp({ token }: { token: string }) {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState<string | null>(null);
  const [wrongPassword, setWrongPassword] = useState<string | null>(null);
  const signup = useMutation({
    mutationFn: async () => {
      const result = await unwrap(api.POST("/api/v1/invitations/signup", { body: { token, password, name: name.trim() } }));
      try {
        await signIn(result.email, password);
      } catch (e) {
        // The email had an account with another password: nothing was joined or changed.
        setWrongPassword(result.email);
        throw e;
      }
      return result;
    },
    // replace: the invitation link (its token) does not stay in the tab's history
    onSuccess: (result) => window.location.replace(`/t/${encodeURIComponent(result.tenant)}`),
  });
  if (wrongPassword) {
    return (
      <div className="stack">
        <Notice kind="warning">
          <strong>{wrongPassword}</strong> already has a Mantle account, and that was not its password. Nothing was changed.
        </Notice>
        <div className="auth-actions">
          <a className="btn btn-primary" href={loginHref(token)}>
            Sign in with your password
          </a>
        </div>
        <p className="muted">After signing in you come back here to accept.</p>
      </div>
    );
  }
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        if (password !== repeat) {
          setMismatch("The two passwords differ.");
          return;
        }
        setMismatch(null);
        signup.mutate();
      }}
    >
      <p className="muted">Create your account to join the team. Your email is the address the invitation was sent to.</p>
      <Field label="Your name">
        <input type="text" value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={200} />
      </Field>
      <Field label="Password" hint="At least 8 characters.">
        <input type="password" required minLength={8} maxLength={200} value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" />
      </Field>
      <Field label="Repeat the password" error={mismatch}>
        <input type="password" required minLength={8} maxLength={200} value={repeat} onChange={(e) => setRepeat(e.target.value)} autoComplete="new-password" />
      </Field>
      {!wrongPassword && <ErrorMessage error={signup.error} title="Not signed up" />}
      <div className="auth-actions">
        <Button type="submit" variant="primary" busy={signup.isPending}>
          Create account and join
        </Button>
      </div>
      <p className="auth-alt">
        I already have an account: <a href={loginHref(token)}>sign in</a> to accept.
      </p>
    </form>
  );
}
