// One AWS environment (admins), in tabs: its settings (edit; the secret is write-only), the
// setup kit (each document to download or copy), the doctor (live checks with the fix for each
// failure) and the provisioner (a dry-run preview first, then apply after a confirmation).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type KeyboardEvent } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../../api/client";
import { ConfirmDialog } from "../../components/ConfirmDialog";
import { Button, CopyButton, Dialog, EmptyState, ErrorMessage, Field, Loading, Notice, Page, Section } from "../../components/ui";
import { formatDate, plural } from "../../format";
import { useTenant } from "../../session";
import { AdminOnly } from "./AdminOnly";
import { groupChecks, rememberReport, summarize, type Check, type DoctorReport } from "./doctor";
import { EnvironmentFormView } from "./EnvironmentFormView";
import { describeCredentials, type EnvironmentPublic } from "./environmentForm";
import { DoctorStatus } from "./EnvironmentsPage";
import "./admin.css";

const TABS = [
  { id: "settings", label: "Settings" },
  { id: "kit", label: "Setup kit" },
  { id: "doctor", label: "Doctor" },
  { id: "provision", label: "Provision" },
] as const;
type Tab = (typeof TABS)[number]["id"];

export default function EnvironmentPage() {
  const t = useTenant();
  if (!t.can("admin")) return <AdminOnly title="Environment" what="AWS environments" />;
  return <Environment />;
}

function Environment() {
  const t = useTenant();
  const { environment: name = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const tab = (TABS.find((x) => x.id === params.get("tab"))?.id ?? "settings") as Tab;
  // Bumped when the doctor ran: the header's "last check" reads what it remembered.
  const [, setChecks] = useState(0);
  const env = useQuery({
    queryKey: ["environment", t.slug, name],
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/environments/{environment}", { params: { path: { tenant: t.slug, environment: name } } })),
  });
  const select = (id: Tab) => setParams(id === "settings" ? {} : { tab: id }, { replace: true });
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex((x) => x.id === tab);
    const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : null;
    if (next === null) return;
    const target = TABS[(next + TABS.length) % TABS.length];
    select(target.id);
    document.getElementById(`tab-${target.id}`)?.focus();
  };

  if (env.isPending) return <Loading />;
  if (env.error) {
    return (
      <Page title={name}>
        <ErrorMessage error={env.error} />
        <Link to={t.href("/environments")}>← All environments</Link>
      </Page>
    );
  }
  return (
    <Page
      title={`Environment ${env.data.name}`}
      subtitle={
        <>
          <Link to={t.href("/environments")}>Environments</Link> · {env.data.region} · account <code>{env.data.account_id}</code>
          {env.data.is_default && <> · default</>} · last check: <DoctorStatus tenant={t.slug} environment={env.data.name} />
        </>
      }
    >
      <div className="tabs" role="tablist" aria-label="Environment" onKeyDown={onKey}>
        {TABS.map((x) => (
          <button
            key={x.id}
            id={`tab-${x.id}`}
            role="tab"
            type="button"
            aria-selected={tab === x.id}
            aria-controls={`panel-${x.id}`}
            tabIndex={tab === x.id ? 0 : -1}
            onClick={() => select(x.id)}
          >
            {x.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "settings" && <Settings env={env.data} />}
        {tab === "kit" && <SetupKit env={env.data} />}
        {tab === "doctor" && <Doctor env={env.data} onChecked={() => setChecks((n) => n + 1)} />}
        {tab === "provision" && <Provision env={env.data} />}
      </div>
    </Page>
  );
}

// --- settings ----------------------------------------------------------------------------

function Settings({ env }: { env: EnvironmentPublic }) {
  const t = useTenant();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [saved, setSaved] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const remove = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE("/api/v1/tenants/{tenant}/environments/{environment}", { params: { path: { tenant: t.slug, environment: env.name } } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["environments", t.slug] });
      navigate(t.href("/environments"));
    },
  });
  return (
    <div className="stack">
      <Section title="Settings">
        {saved && <Notice kind="success">Saved. Run the doctor to check the new settings against AWS.</Notice>}
        <EnvironmentFormView
          key={env.updated_at}
          tenant={t.slug}
          original={env}
          onSaved={(updated) => {
            setSaved(true);
            queryClient.setQueryData(["environment", t.slug, env.name], updated);
            void queryClient.invalidateQueries({ queryKey: ["environments", t.slug] });
          }}
        />
      </Section>
      <Section title="Delete this environment">
        <p className="muted">Runs that used it keep their records; its buckets and AWS resources are not touched.</p>
        <Button variant="danger" onClick={() => setDeleting(true)}>
          Delete environment
        </Button>
      </Section>
      <ConfirmDialog
        open={deleting}
        title={`Delete ${env.name}?`}
        confirm="Delete"
        onConfirm={() => remove.mutate()}
        onClose={() => {
          setDeleting(false);
          remove.reset();
        }}
        busy={remove.isPending}
        error={remove.error}
        errorTitle="Not deleted"
      >
        <p>
          Mantle forgets <strong>{env.name}</strong> and its stored credentials. Nothing in AWS is deleted.
        </p>
      </ConfirmDialog>
    </div>
  );
}

// --- setup kit ---------------------------------------------------------------------------

const KIT_FILES: Record<string, string> = {
  "README.md": "What to create in AWS, in order, with these files.",
  "cloudformation.yaml": "A CloudFormation stack that creates the whole setup at once.",
  "platform-policy.json": "IAM policy for the principal Mantle uses (role or user).",
  "platform-trust-policy.json": "Trust policy of the role Mantle assumes (with your external id).",
  "provisioner-policy.json": "Extra rights for Mantle to provision Batch for you (optional).",
  "instance-role-trust-policy.json": "Trust policy of the Batch hosts' instance role.",
  "head-job-role-trust-policy.json": "Trust policy of the role the Nextflow head job runs as.",
  "head-job-role-policy.json": "Rights of the head job (S3, Batch, logs).",
  "cors-write-bucket.json": "CORS rules of the write bucket (browser uploads and downloads).",
  "cors-read-buckets.json": "CORS rules of the read buckets.",
  "launch-template.json": "EC2 launch template for the Batch hosts.",
  "launch-template-user-data.txt": "The hosts' user data: AWS CLI and a self-growing Docker volume.",
  "nextflow.config": "The configuration Mantle adds to every run.",
};

export function kitDescription(name: string): string {
  if (KIT_FILES[name]) return KIT_FILES[name];
  const inline = /^instance-role-(.+)-policy\.json$/.exec(name);
  if (inline) return `Inline policy "${inline[1]}" of the Batch hosts' instance role.`;
  return "";
}

/** README first, then the stack, then the rest by name. */
export function kitOrder(names: string[]): string[] {
  const first = ["README.md", "cloudformation.yaml"];
  return [...first.filter((n) => names.includes(n)), ...names.filter((n) => !first.includes(n)).sort()];
}

function download(name: string, content: string) {
  const type = name.endsWith(".json") ? "application/json" : name.endsWith(".yaml") ? "application/yaml" : "text/plain";
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function SetupKit({ env }: { env: EnvironmentPublic }) {
  const t = useTenant();
  const kit = useQuery({
    queryKey: ["setup-kit", t.slug, env.name, env.updated_at],
    queryFn: () =>
      unwrap(api.GET("/api/v1/tenants/{tenant}/environments/{environment}/setup-kit", { params: { path: { tenant: t.slug, environment: env.name } } })),
  });
  return (
    <Section title="Setup kit" testId="setup-kit">
      <p className="muted">
        Every document to set this environment up in AWS account <code>{env.account_id}</code>, generated from its settings. Start with the
        README, or create everything with the CloudFormation stack; then run the doctor. The same files:{" "}
        <code>mantle aws setup-kit {env.name} --out DIR</code>.
      </p>
      {kit.isPending ? (
        <Loading />
      ) : kit.error ? (
        <ErrorMessage error={kit.error} />
      ) : (
        <div className="stack">
          {kitOrder(Object.keys(kit.data.files)).map((name) => (
            <details key={name} className="kit-file" data-testid="kit-file">
              <summary>
                <span className="kit-name">{name}</span>
                <span className="kit-desc">{kitDescription(name)}</span>
                <CopyButton text={kit.data.files[name]} />
                <Button onClick={() => download(name, kit.data.files[name])} aria-label={`Download ${name}`}>
                  Download
                </Button>
              </summary>
              <pre>{kit.data.files[name]}</pre>
            </details>
          ))}
        </div>
      )}
    </Section>
  );
}

// --- doctor ------------------------------------------------------------------------------

function useElapsed(running: boolean): number {
  const [seconds, setSeconds] = useState(0);
  useEffect(() => {
    if (!running) return;
    setSeconds(0);
    const started = Date.now();
    const timer = setInterval(() => setSeconds(Math.floor((Date.now() - started) / 1000)), 500);
    return () => clearInterval(timer);
  }, [running]);
  return seconds;
}

function Doctor({ env, onChecked }: { env: EnvironmentPublic; onChecked: () => void }) {
  const t = useTenant();
  const [checkedAt, setCheckedAt] = useState<Date | null>(null);
  const doctor = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/v1/tenants/{tenant}/environments/{environment}/doctor", { params: { path: { tenant: t.slug, environment: env.name } } })),
    onSuccess: (report) => {
      rememberReport(t.slug, report);
      setCheckedAt(new Date());
      onChecked();
    },
  });
  const elapsed = useElapsed(doctor.isPending);
  const report = doctor.data;
  return (
    <Section
      title="Doctor"
      testId="doctor"
      actions={
        <Button variant="primary" busy={doctor.isPending} onClick={() => doctor.mutate()}>
          {report || doctor.error ? "Run again" : "Run the doctor"}
        </Button>
      }
    >
      <p className="muted">
        Checks the live setup with this environment's credentials: sign-in, each bucket (read, write, multipart, CORS), the Batch queues and
        compute environments, a job definition, logs, the hosts' and head job's roles and the launch template. It writes one small probe
        object and registers and removes a job definition.
      </p>
      {doctor.isPending && (
        <div className="stack" data-testid="doctor-running">
          <div className="status-line">
            <span className="spinner" aria-hidden="true" />
            <span role="status">
              Checking {env.name} in AWS… <span className="elapsed">{elapsed} s</span>
            </span>
          </div>
          <progress className="progress" aria-label="Doctor running" />
        </div>
      )}
      <ErrorMessage error={doctor.error} title="The doctor could not run" />
      {!doctor.isPending && report && <DoctorResult report={report} at={checkedAt} />}
      {!doctor.isPending && !report && !doctor.error && (
        <EmptyState title="Not checked in this session">Run the doctor after creating or changing the setup; each failure comes with its fix.</EmptyState>
      )}
    </Section>
  );
}

const STATUS_BADGE: Record<Check["status"], string> = { pass: "success", warn: "warning", fail: "danger" };

function DoctorResult({ report, at }: { report: DoctorReport; at: Date | null }) {
  const groups = groupChecks(report.checks);
  const failed = report.checks.some((c) => c.status === "fail");
  const warned = report.checks.some((c) => c.status === "warn");
  return (
    <div className="stack" data-testid="doctor-report">
      <div className={`alert alert-${failed ? "error" : warned ? "warning" : "success"}`} role="status">
        <strong>{summarize(report)}.</strong>{" "}
        {failed ? "Runs will fail until each failure below is fixed." : "This environment is ready for runs."}
        {at && <span className="muted"> Checked {formatDate(at.toISOString())}.</span>}
      </div>
      {groups.map((group) => (
        <section key={group.title} className="card doctor-group" aria-label={group.title}>
          <header className="card-header">
            <h3>{group.title}</h3>
            <span className="group-counts">
              {group.counts.fail > 0 && <span className="badge badge-danger">{group.counts.fail} failed</span>}
              {group.counts.warn > 0 && <span className="badge badge-warning">{plural(group.counts.warn, "warning")}</span>}
              {group.counts.pass > 0 && <span className="badge badge-success">{group.counts.pass} passed</span>}
            </span>
          </header>
          <ul className="check-list">
            {group.checks.map((check, i) => (
              <li key={`${check.name}-${i}`} className={`check check-${check.status}`} data-testid="check" data-status={check.status}>
                <span>
                  <span className={`badge badge-${STATUS_BADGE[check.status]}`}>{check.status}</span>
                </span>
                <span className="check-name">{check.name}</span>
                <span className="check-message">{check.message}</span>
                {check.fix && check.status !== "pass" && (
                  <span className="check-fix">
                    <strong>Fix:</strong> {check.fix}
                    {check.retryable && <em> (temporary: run the doctor again)</em>}
                  </span>
                )}
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

// --- provision ---------------------------------------------------------------------------

type ProvisionReport = Schemas["ProvisionReport"];
type ProvisionRequest = Schemas["ProvisionRequest"];

export function splitIds(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function Provision({ env }: { env: EnvironmentPublic }) {
  const t = useTenant();
  const [subnets, setSubnets] = useState("");
  const [groups, setGroups] = useState("");
  const [maxVcpus, setMaxVcpus] = useState("");
  const [volume, setVolume] = useState("");
  const [confirming, setConfirming] = useState(false);
  const request = (dryRun: boolean): ProvisionRequest => ({
    dry_run: dryRun,
    subnet_ids: splitIds(subnets),
    security_group_ids: splitIds(groups),
    max_vcpus: maxVcpus.trim() ? Number(maxVcpus) : null,
    docker_volume_gib: volume.trim() ? Number(volume) : null,
  });
  const call = (dryRun: boolean) =>
    unwrap(
      api.POST("/api/v1/tenants/{tenant}/environments/{environment}/provision", {
        params: { path: { tenant: t.slug, environment: env.name } },
        body: request(dryRun),
      }),
    );
  const preview = useMutation({ mutationFn: () => call(true) });
  const apply = useMutation({
    mutationFn: () => call(false),
    onSuccess: () => setConfirming(false),
  });
  const plan = preview.data;
  const changes = plan?.actions.filter((a) => a.action !== "none") ?? [];
  return (
    <div className="stack">
      <Section title="Provision AWS Batch" testId="provision">
        <p className="muted">
          Mantle can create the Batch side of this environment in account <code>{env.account_id}</code> ({env.region}) with its credentials
          ({describeCredentials(env.credentials)}): the hosts' and head job's roles, the launch template, a managed compute environment (0
          vCPUs when idle) and the job queues. It needs the rights in <code>provisioner-policy.json</code> of the setup kit. Buckets are not
          created. Running it again changes only what differs.
        </p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            apply.reset();
            preview.mutate();
          }}
        >
          <div className="form-row">
            <Field label="Subnets" hint="Empty: the default VPC's subnets.">
              <input type="text" value={subnets} onChange={(e) => setSubnets(e.target.value)} placeholder="subnet-0abc…, subnet-0def…" />
            </Field>
            <Field label="Security groups" hint="Empty: the default VPC's group.">
              <input type="text" value={groups} onChange={(e) => setGroups(e.target.value)} placeholder="sg-0abc…" />
            </Field>
            <Field label="Max vCPUs" hint="Empty: keep (256 when new).">
              <input type="number" min={1} value={maxVcpus} onChange={(e) => setMaxVcpus(e.target.value)} />
            </Field>
            <Field label="Docker volume (GiB)" hint="Empty: keep (500 when new).">
              <input type="number" min={20} value={volume} onChange={(e) => setVolume(e.target.value)} />
            </Field>
          </div>
          <ErrorMessage error={preview.error} title="No preview" />
          <div className="form-actions">
            <Button type="submit" variant={plan ? "secondary" : "primary"} busy={preview.isPending}>
              {plan ? "Preview again" : "Preview (dry run)"}
            </Button>
            {plan && changes.length > 0 && (
              <Button variant="primary" onClick={() => setConfirming(true)} disabled={apply.isPending}>
                Apply {plural(changes.length, "change")}…
              </Button>
            )}
          </div>
        </form>
      </Section>
      {preview.isPending && <Loading label="Asking AWS what exists…" />}
      {plan && !apply.data && <Plan report={plan} title="Preview: what would change" />}
      {apply.data && <Plan report={apply.data} title="Done: what changed" />}
      <Dialog open={confirming} title="Create these resources in AWS?" onClose={() => setConfirming(false)}>
        <div className="stack">
          <p>
            Mantle will make {plural(changes.length, "change")} in account <code>{env.account_id}</code>, region {env.region}:
          </p>
          <ul>
            {changes.map((a) => (
              <li key={`${a.resource}-${a.name}`}>
                {a.action} {a.resource} <code>{a.name}</code>
              </li>
            ))}
          </ul>
          <p className="muted">The compute environment scales to 0 vCPUs when idle: it costs nothing until runs start.</p>
          <ErrorMessage error={apply.error} title="Provisioning stopped" />
          {apply.isPending && <progress className="progress" aria-label="Provisioning" />}
          <div className="form-actions">
            <Button variant="primary" busy={apply.isPending} onClick={() => apply.mutate()}>
              Create in AWS
            </Button>
            <Button onClick={() => setConfirming(false)} disabled={apply.isPending}>
              Cancel
            </Button>
          </div>
        </div>
      </Dialog>
    </div>
  );
}

const ACTION_BADGE: Record<string, string> = { create: "info", update: "warning", replace: "danger", none: "neutral" };

function Plan({ report, title }: { report: ProvisionReport; title: string }) {
  const replace = report.actions.filter((a) => a.action === "replace");
  return (
    <Section title={title} testId={report.dry_run ? "provision-preview" : "provision-result"}>
      {report.dry_run ? (
        <Notice>
          Dry run: nothing was created. {report.changed ? "Apply to make these changes." : "Everything already exists as it should: nothing to do."}
        </Notice>
      ) : (
        <Notice kind="success">{report.changed ? "Provisioned. Run the doctor to check the whole setup." : "Nothing needed changing."}</Notice>
      )}
      {replace.length > 0 && (
        <Notice kind="warning">
          {plural(replace.length, "resource")} can only take the change as a new resource; Mantle never replaces them itself. Create the new one
          under another name or delete the old one in AWS, then provision again.
        </Notice>
      )}
      <div className="table-wrap">
        <table className="table" aria-label={title}>
          <thead>
            <tr>
              <th scope="col">Action</th>
              <th scope="col">Resource</th>
              <th scope="col">Name</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {report.actions.map((a) => (
              <tr key={`${a.resource}-${a.name}`} className={a.action === "none" ? "row-muted" : undefined}>
                <td>
                  <span className={`badge badge-${ACTION_BADGE[a.action]}`}>{a.action === "none" ? "no change" : a.action}</span>
                </td>
                <td>{a.resource}</td>
                <td>
                  <code>{a.name}</code>
                </td>
                <td>{a.detail || "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}
