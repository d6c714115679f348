// The environment form (create and edit). The mapping to the API, and the rule that a secret
// is write-only, live in environmentForm.ts.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { api, unwrap } from "../../api/client";
import { Button, CopyButton, ErrorMessage, Field, Notice } from "../../components/ui";
import {
  describeCredentials,
  emptyForm,
  formFromEnvironment,
  toCreatePayload,
  toUpdatePayload,
  validate,
  type CredentialKind,
  type EnvironmentForm,
  type EnvironmentPublic,
  type FormErrors,
} from "./environmentForm";

export function EnvironmentFormView(props: {
  tenant: string;
  original?: EnvironmentPublic;
  onSaved: (env: EnvironmentPublic) => void;
  onCancel?: () => void;
}) {
  const { original, tenant } = props;
  const [form, setForm] = useState<EnvironmentForm>(() => (original ? formFromEnvironment(original) : emptyForm()));
  const [errors, setErrors] = useState<FormErrors>({});
  const [nothingChanged, setNothingChanged] = useState(false);
  const aws = useQuery({
    queryKey: ["tenant-aws", tenant],
    queryFn: () => unwrap(api.GET("/api/v1/tenants/{tenant}/aws", { params: { path: { tenant } } })),
    staleTime: Infinity,
  });
  const save = useMutation({
    mutationFn: async () => {
      if (!original) {
        return unwrap(api.POST("/api/v1/tenants/{tenant}/environments", { params: { path: { tenant } }, body: toCreatePayload(form) }));
      }
      return unwrap(
        api.PATCH("/api/v1/tenants/{tenant}/environments/{environment}", {
          params: { path: { tenant, environment: original.name } },
          body: toUpdatePayload(form, original),
        }),
      );
    },
    onSuccess: (env) => {
      // The secret is write-only: never kept in the page after it was sent.
      setForm((f) => ({ ...f, access_key_id: "", secret_access_key: "" }));
      props.onSaved(env);
    },
  });

  const set = <K extends keyof EnvironmentForm>(key: K, value: EnvironmentForm[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setNothingChanged(false);
    // A field's message goes once it is edited (the next submit checks again).
    const related: Array<keyof EnvironmentForm> =
      key === "credential_kind" ? ["role_arn", "access_key_id", "secret_access_key", "account_id"] : [key];
    setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => !related.includes(k as keyof EnvironmentForm))));
  };
  const text = (key: keyof EnvironmentForm, extra: Record<string, unknown> = {}) => ({
    type: "text",
    value: form[key] as string,
    onChange: (e: { target: { value: string } }) => set(key, e.target.value as never),
    ...extra,
  });
  const storedKeys = original?.credentials.kind === "keys" && original.credentials.has_secret_key;

  return (
    <form
      data-testid="environment-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const found = validate(form, original);
        setErrors(found);
        if (Object.keys(found).length > 0) return;
        if (original && Object.keys(toUpdatePayload(form, original)).length === 0) {
          setNothingChanged(true);
          return;
        }
        save.mutate();
      }}
    >
      <Group legend="Where">
        <div className="form-row">
          {!original && (
            <Field label="Name" hint="Lowercase, e.g. prod or dev-eu. Cannot be changed later." error={errors.name}>
              <input {...text("name", { autoComplete: "off" })} />
            </Field>
          )}
          <Field label="AWS region" hint="e.g. eu-west-1" error={errors.region}>
            <input {...text("region")} placeholder="eu-west-1" />
          </Field>
          <Field label="AWS account id" hint="12 digits; taken from the role ARN when empty." error={errors.account_id}>
            <input {...text("account_id", { inputMode: "numeric" })} />
          </Field>
        </div>
        <div className="check-row">
          <label>
            <input type="checkbox" checked={form.is_default} disabled={original?.is_default} onChange={(e) => set("is_default", e.target.checked)} /> Default
            environment of this tenant (runs and uploads go here unless another one is chosen)
          </label>
        </div>
      </Group>

      <Group legend="Credentials">
        <div className="radio-row" role="radiogroup" aria-label="How Mantle signs in to AWS">
          {(
            [
              ["role", "Assume a role (recommended)"],
              ["keys", "Access key of an IAM user"],
              ["server", "The server's own credentials"],
            ] as Array<[CredentialKind, string]>
          ).map(([kind, label]) => (
            <label key={kind}>
              <input type="radio" name="credential_kind" value={kind} checked={form.credential_kind === kind} onChange={() => set("credential_kind", kind)} />
              {label}
            </label>
          ))}
        </div>
        {original && <p className="stored">Stored now: {describeCredentials(original.credentials)}.</p>}
        {form.credential_kind === "role" && (
          <>
            <Field label="Role ARN" hint="The role Mantle assumes; the setup kit has its trust policy." error={errors.role_arn}>
              <input {...text("role_arn")} placeholder="arn:aws:iam::123456789012:role/mantle-platform" />
            </Field>
            {aws.data && (
              <p className="muted">
                Its trust policy must require the external id <code>{aws.data.external_id}</code> <CopyButton text={aws.data.external_id} label="Copy external id" />
              </p>
            )}
          </>
        )}
        {form.credential_kind === "keys" && (
          <>
            {storedKeys && form.credential_kind === original?.credentials.kind && (
              <Notice>The secret access key is stored encrypted and never shown again. Leave both fields empty to keep the stored key.</Notice>
            )}
            <div className="form-row">
              <Field label="Access key id" error={errors.access_key_id} hint={storedKeys ? "Leave empty to keep." : undefined}>
                <input {...text("access_key_id", { autoComplete: "off", spellCheck: false })} placeholder="AKIA…" />
              </Field>
              <Field label="Secret access key" hint="Stored encrypted; leave empty to keep." error={errors.secret_access_key}>
                <input
                  type="password"
                  autoComplete="new-password"
                  value={form.secret_access_key}
                  onChange={(e) => set("secret_access_key", e.target.value)}
                  placeholder={storedKeys ? "•••••••• (stored)" : ""}
                />
              </Field>
            </div>
          </>
        )}
        {form.credential_kind === "server" && (
          <p className="muted">Mantle uses its own AWS credentials (its environment, profile or instance role). Only for a server hosted in your account.</p>
        )}
      </Group>

      <Group legend="Storage">
        <div className="form-row">
          <Field label="Write bucket" hint="Runs, uploads and outputs are written here." error={errors.write_bucket}>
            <input {...text("write_bucket")} placeholder="acme-mantle" />
          </Field>
          <Field label="Prefix in the write bucket" hint="Optional, e.g. mantle" error={errors.write_prefix}>
            <input {...text("write_prefix")} />
          </Field>
        </div>
        <Field label="Read buckets" hint="Buckets to import from: one a line, bucket or bucket/prefix." error={errors.read_buckets}>
          <textarea rows={3} value={form.read_buckets} onChange={(e) => set("read_buckets", e.target.value)} placeholder={"acme-sequencer/runs\nacme-archive"} />
        </Field>
      </Group>

      <Group legend="AWS Batch">
        <div className="form-row">
          <Field label="Head job queue" hint="Where the Nextflow head job runs." error={errors.head_queue}>
            <input {...text("head_queue")} placeholder="mantle-head" />
          </Field>
          <Field label="Task queue" hint="Where pipeline tasks run; empty: the head queue." error={errors.compute_queue}>
            <input {...text("compute_queue")} />
          </Field>
        </div>
        <Field label="Head job image" hint="An image with Nextflow and Mantle's launcher, built from docker/head-job.Dockerfile (the stock nextflow/nextflow image fails the doctor)." error={errors.head_image}>
          <input {...text("head_image", { spellCheck: false })} />
        </Field>
        <details className="advanced">
          <summary>Advanced</summary>
          <div className="form-row">
            <Field label="Head job vCPUs" error={errors.head_vcpus}>
              <input {...text("head_vcpus", { type: "number", min: 1, max: 256 })} />
            </Field>
            <Field label="Head job memory (MiB)" error={errors.head_memory_mib}>
              <input {...text("head_memory_mib", { type: "number", min: 512 })} />
            </Field>
            <Field label="AWS CLI path on hosts" error={errors.cli_path}>
              <input {...text("cli_path")} />
            </Field>
            <Field label="Log group" error={errors.log_group}>
              <input {...text("log_group")} />
            </Field>
          </div>
          <div className="check-row">
            <label>
              <input type="checkbox" checked={form.use_ecr} onChange={(e) => set("use_ecr", e.target.checked)} /> Pipelines pull images from ECR in this account
            </label>
          </div>
          <Field label="Extra Nextflow config" hint="Appended to every run's nextflow.config.">
            <textarea rows={4} value={form.nextflow_config} onChange={(e) => set("nextflow_config", e.target.value)} />
          </Field>
        </details>
      </Group>

      {Object.keys(errors).length > 0 && <div className="alert alert-error" role="alert">Some fields need a look: see the messages above.</div>}
      {nothingChanged && <Notice>Nothing changed: there is nothing to save.</Notice>}
      <ErrorMessage error={save.error} title="Not saved" />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.isPending}>
          {original ? "Save changes" : "Create environment"}
        </Button>
        {props.onCancel && <Button onClick={props.onCancel}>Cancel</Button>}
      </div>
    </form>
  );
}

function Group({ legend, children }: { legend: string; children: ReactNode }) {
  return (
    <fieldset className="fieldset">
      <legend>{legend}</legend>
      {children}
    </fieldset>
  );
}
