// The environment form <-> the API. The form holds strings (what inputs hold); the API takes
// EnvironmentCreate on create and, on edit, an EnvironmentUpdate with only the fields that
// changed. Credentials are write-only: the API never hands the secret back, so an empty secret
// on edit means "keep the stored one" and the credentials are only sent when something about
// them changed.
import type { Schemas } from "../../api/client";

export type CredentialKind = "role" | "keys" | "server";

export type EnvironmentForm = {
  name: string;
  region: string;
  account_id: string;
  is_default: boolean;
  credential_kind: CredentialKind;
  role_arn: string;
  access_key_id: string;
  secret_access_key: string;
  write_bucket: string;
  write_prefix: string;
  /** One read bucket a line: `bucket`, `bucket/prefix` or `s3://bucket/prefix`. */
  read_buckets: string;
  head_queue: string;
  compute_queue: string;
  head_image: string;
  head_vcpus: string;
  head_memory_mib: string;
  cli_path: string;
  log_group: string;
  nextflow_config: string;
  use_ecr: boolean;
};

export type EnvironmentCreate = Schemas["EnvironmentCreate"];
export type EnvironmentUpdate = Schemas["EnvironmentUpdate"];
export type EnvironmentPublic = Schemas["EnvironmentPublic"];
export type ReadBucket = { bucket: string; prefix: string };

export const DEFAULTS = {
  head_image: "nextflow/nextflow:24.10.4",
  head_vcpus: "2",
  head_memory_mib: "4096",
  cli_path: "/miniconda/bin/aws",
  log_group: "/aws/batch/job",
};

export function emptyForm(): EnvironmentForm {
  return {
    name: "",
    region: "",
    account_id: "",
    is_default: false,
    credential_kind: "role",
    role_arn: "",
    access_key_id: "",
    secret_access_key: "",
    write_bucket: "",
    write_prefix: "",
    read_buckets: "",
    head_queue: "",
    compute_queue: "",
    head_image: DEFAULTS.head_image,
    head_vcpus: DEFAULTS.head_vcpus,
    head_memory_mib: DEFAULTS.head_memory_mib,
    cli_path: DEFAULTS.cli_path,
    log_group: DEFAULTS.log_group,
    nextflow_config: "",
    use_ecr: false,
  };
}

/** The form filled from a stored environment. The secret stays empty: it is never shown. */
export function formFromEnvironment(env: EnvironmentPublic): EnvironmentForm {
  return {
    name: env.name,
    region: env.region,
    account_id: env.account_id,
    is_default: env.is_default,
    credential_kind: env.credentials.kind,
    role_arn: env.credentials.role_arn ?? "",
    access_key_id: "",
    secret_access_key: "",
    write_bucket: env.write_bucket,
    write_prefix: env.write_prefix,
    read_buckets: formatReadBuckets(env.read_buckets),
    head_queue: env.head_queue,
    compute_queue: env.compute_queue === env.head_queue ? "" : env.compute_queue,
    head_image: env.head_image,
    head_vcpus: String(env.head_vcpus),
    head_memory_mib: String(env.head_memory_mib),
    cli_path: env.cli_path,
    log_group: env.log_group,
    nextflow_config: env.nextflow_config,
    use_ecr: env.use_ecr,
  };
}

export function parseReadBuckets(text: string): ReadBucket[] {
  const seen = new Set<string>();
  const out: ReadBucket[] = [];
  for (const raw of text.split(/[\n,]/)) {
    const line = raw.trim().replace(/^s3:\/\//i, "");
    if (!line) continue;
    const slash = line.indexOf("/");
    const bucket = slash < 0 ? line : line.slice(0, slash);
    const prefix = slash < 0 ? "" : line.slice(slash + 1).replace(/^\/+|\/+$/g, "");
    const key = `${bucket}/${prefix}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ bucket, prefix });
  }
  return out;
}

export function formatReadBuckets(buckets: ReadBucket[]): string {
  return buckets.map((b) => (b.prefix ? `${b.bucket}/${b.prefix}` : b.bucket)).join("\n");
}

export type FormErrors = Partial<Record<keyof EnvironmentForm, string>>;

/** What the browser can say before asking the server (the server checks everything again). */
export function validate(form: EnvironmentForm, original?: EnvironmentPublic): FormErrors {
  const errors: FormErrors = {};
  const required: Array<[keyof EnvironmentForm, string]> = [
    ["region", "The AWS region, e.g. eu-west-1."],
    ["write_bucket", "The bucket where runs and uploads are written."],
    ["head_queue", "The Batch job queue the Nextflow head job runs in."],
  ];
  if (!original) required.unshift(["name", "A short name, e.g. prod."]);
  for (const [key, message] of required) {
    if (!String(form[key]).trim()) errors[key] = message;
  }
  if (!original && form.name && !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(form.name)) {
    errors.name = "Lowercase letters, digits and dashes (e.g. prod-eu).";
  }
  if (form.credential_kind === "role" && !form.role_arn.trim()) {
    errors.role_arn = "The ARN of the role Mantle assumes (arn:aws:iam::123456789012:role/name).";
  }
  if (form.credential_kind !== "role" && !form.account_id.trim()) {
    errors.account_id = "The 12-digit AWS account id.";
  }
  if (form.credential_kind === "keys") {
    const keepsStoredKey = original?.credentials.kind === "keys" && original.credentials.has_secret_key;
    const id = form.access_key_id.trim();
    const secret = form.secret_access_key;
    if (keepsStoredKey) {
      if (id && !secret) errors.secret_access_key = "Enter the secret of the new access key too.";
      if (secret && !id) errors.access_key_id = "Enter the access key id that goes with the new secret.";
    } else {
      if (!id) errors.access_key_id = "The access key id (AKIA…).";
      if (!secret) errors.secret_access_key = "The secret access key.";
    }
  }
  for (const key of ["head_vcpus", "head_memory_mib"] as const) {
    if (!/^\d+$/.test(form[key].trim())) errors[key] = "A whole number.";
  }
  return errors;
}

/** The credentials to send, or undefined to keep the stored ones (edit only). */
export function credentialsPayload(
  form: EnvironmentForm,
  original?: EnvironmentPublic,
): EnvironmentCreate["credentials"] | undefined {
  const kindChanged = !original || original.credentials.kind !== form.credential_kind;
  switch (form.credential_kind) {
    case "role":
      if (!kindChanged && original?.credentials.role_arn === form.role_arn.trim()) return undefined;
      return { kind: "role", role_arn: form.role_arn.trim() };
    case "keys":
      // Empty on edit: the stored key (write-only, encrypted) stays.
      if (!kindChanged && !form.access_key_id.trim() && !form.secret_access_key) return undefined;
      return {
        kind: "keys",
        access_key_id: form.access_key_id.trim(),
        secret_access_key: form.secret_access_key,
      };
    case "server":
      return kindChanged ? { kind: "server" } : undefined;
  }
}

function orNull(value: string): string | null {
  const v = value.trim();
  return v ? v : null;
}

/** The full create body. */
export function toCreatePayload(form: EnvironmentForm): EnvironmentCreate {
  return {
    name: form.name.trim(),
    region: form.region.trim(),
    account_id: orNull(form.account_id),
    is_default: form.is_default,
    credentials: credentialsPayload(form)!,
    write_bucket: form.write_bucket.trim(),
    write_prefix: form.write_prefix.trim(),
    read_buckets: parseReadBuckets(form.read_buckets),
    head_queue: form.head_queue.trim(),
    compute_queue: orNull(form.compute_queue),
    head_image: form.head_image.trim() || DEFAULTS.head_image,
    head_vcpus: Number(form.head_vcpus),
    head_memory_mib: Number(form.head_memory_mib),
    cli_path: form.cli_path.trim() || DEFAULTS.cli_path,
    log_group: form.log_group.trim() || DEFAULTS.log_group,
    nextflow_config: form.nextflow_config,
    use_ecr: form.use_ecr,
  };
}

function sameBuckets(a: ReadBucket[], b: ReadBucket[]): boolean {
  return a.length === b.length && a.every((x, i) => x.bucket === b[i].bucket && x.prefix === b[i].prefix);
}

/** Only what changed against the stored environment (an empty object: nothing to save). */
export function toUpdatePayload(form: EnvironmentForm, original: EnvironmentPublic): EnvironmentUpdate {
  const next = toCreatePayload({ ...form, name: original.name });
  const body: EnvironmentUpdate = {};
  const scalar = [
    "region",
    "write_bucket",
    "write_prefix",
    "head_queue",
    "head_image",
    "head_vcpus",
    "head_memory_mib",
    "cli_path",
    "log_group",
    "nextflow_config",
    "use_ecr",
  ] as const;
  for (const key of scalar) {
    if (next[key] !== original[key]) (body as Record<string, unknown>)[key] = next[key];
  }
  const computeQueue = next.compute_queue ?? next.head_queue;
  if (computeQueue !== original.compute_queue) body.compute_queue = computeQueue;
  if (next.account_id && next.account_id !== original.account_id) body.account_id = next.account_id;
  if (next.is_default && !original.is_default) body.is_default = true;
  if (!sameBuckets(next.read_buckets ?? [], original.read_buckets)) body.read_buckets = next.read_buckets;
  const credentials = credentialsPayload(form, original);
  if (credentials) body.credentials = credentials;
  return body;
}

/** How the stored credentials read (never the secret). */
export function describeCredentials(c: Schemas["CredentialsPublic"]): string {
  if (c.kind === "role") return `Role ${c.role_arn ?? ""}`;
  if (c.kind === "keys") {
    const last4 = c.access_key_id_last4 ? `ending in ${c.access_key_id_last4}` : "";
    return `Access key ${last4}${c.has_secret_key ? " (secret stored encrypted)" : ""}`.trim();
  }
  return "The Mantle server's own AWS credentials";
}

/** The credentials in a few words, for a table cell. */
export function shortCredentials(c: Schemas["CredentialsPublic"]): string {
  if (c.kind === "role") return `role ${c.role_arn?.split("/").pop() ?? ""}`.trim();
  if (c.kind === "keys") return c.access_key_id_last4 ? `access key …${c.access_key_id_last4}` : "access key";
  return "server's own";
}
