import { describe, expect, it } from "vitest";
import {
  credentialsPayload,
  emptyForm,
  formFromEnvironment,
  parseReadBuckets,
  toCreatePayload,
  toUpdatePayload,
  validate,
  type EnvironmentForm,
  type EnvironmentPublic,
} from "./environmentForm";

function stored(overrides: Partial<EnvironmentPublic> = {}): EnvironmentPublic {
  return {
    id: "6f1c2c1e-0000-4000-8000-000000000001",
    name: "prod",
    region: "eu-west-1",
    account_id: "123456789012",
    is_default: true,
    credentials: { kind: "keys", role_arn: null, external_id: null, access_key_id_last4: "EY42", has_secret_key: true },
    write_bucket: "acme-mantle",
    write_prefix: "mantle",
    read_buckets: [{ bucket: "acme-raw", prefix: "runs" }],
    head_queue: "mantle-head",
    compute_queue: "mantle-head",
    head_image: "nextflow/nextflow:24.10.4",
    head_vcpus: 2,
    head_memory_mib: 4096,
    cli_path: "/miniconda/bin/aws",
    nextflow_config: "",
    log_group: "/aws/batch/job",
    use_ecr: false,
    created_at: "2026-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

function filled(overrides: Partial<EnvironmentForm> = {}): EnvironmentForm {
  return {
    ...emptyForm(),
    name: "dev",
    region: "us-east-1",
    role_arn: "arn:aws:iam::123456789012:role/mantle",
    write_bucket: "acme-dev",
    head_queue: "q",
    ...overrides,
  };
}

describe("read buckets", () => {
  it("parses one a line, with prefixes, s3:// and duplicates", () => {
    expect(parseReadBuckets("s3://a/x/y/\n b \n\na/x/y\nc/")).toEqual([
      { bucket: "a", prefix: "x/y" },
      { bucket: "b", prefix: "" },
      { bucket: "c", prefix: "" },
    ]);
  });
  it("round-trips through the form", () => {
    expect(parseReadBuckets(formFromEnvironment(stored()).read_buckets)).toEqual(stored().read_buckets);
  });
});

describe("create payload", () => {
  it("sends the role and leaves an empty account and task queue to the server", () => {
    const body = toCreatePayload(filled());
    expect(body.credentials).toEqual({ kind: "role", role_arn: "arn:aws:iam::123456789012:role/mantle" });
    expect(body.account_id).toBeNull();
    expect(body.compute_queue).toBeNull();
    expect(body.head_vcpus).toBe(2);
  });
  it("sends access keys whole", () => {
    const body = toCreatePayload(filled({ credential_kind: "keys", account_id: "123456789012", access_key_id: " AKIAX ", secret_access_key: "s3cr3t" }));
    expect(body.credentials).toEqual({ kind: "keys", access_key_id: "AKIAX", secret_access_key: "s3cr3t" });
  });
  it("requires both halves of a new key and the account", () => {
    const errors = validate(filled({ credential_kind: "keys", access_key_id: "AKIAX" }));
    expect(errors.secret_access_key).toBeTruthy();
    expect(errors.account_id).toBeTruthy();
  });
});

describe("update payload (the secret is write-only)", () => {
  it("never fills the secret from the stored environment", () => {
    const form = formFromEnvironment(stored());
    expect(form.secret_access_key).toBe("");
    expect(form.access_key_id).toBe("");
  });
  it("sends nothing when nothing changed: empty key fields keep the stored key", () => {
    const env = stored();
    expect(toUpdatePayload(formFromEnvironment(env), env)).toEqual({});
    expect(validate(formFromEnvironment(env), env)).toEqual({});
  });
  it("sends only the changed fields", () => {
    const env = stored();
    const form = { ...formFromEnvironment(env), head_queue: "other", read_buckets: "acme-raw/runs\nacme-more" };
    expect(toUpdatePayload(form, env)).toEqual({
      head_queue: "other",
      compute_queue: "other",
      read_buckets: [
        { bucket: "acme-raw", prefix: "runs" },
        { bucket: "acme-more", prefix: "" },
      ],
    });
  });
  it("keeps a separate task queue", () => {
    const env = stored({ compute_queue: "tasks" });
    const form = formFromEnvironment(env);
    expect(form.compute_queue).toBe("tasks");
    expect(toUpdatePayload({ ...form, compute_queue: "" }, env)).toEqual({ compute_queue: "mantle-head" });
  });
  it("replaces the key when both halves are given, and asks for the other half otherwise", () => {
    const env = stored();
    const form = { ...formFromEnvironment(env), access_key_id: "AKIANEW", secret_access_key: "new-secret" };
    expect(toUpdatePayload(form, env)).toEqual({ credentials: { kind: "keys", access_key_id: "AKIANEW", secret_access_key: "new-secret" } });
    expect(validate({ ...form, access_key_id: "" }, env).access_key_id).toBeTruthy();
    expect(validate({ ...form, secret_access_key: "" }, env).secret_access_key).toBeTruthy();
  });
  it("switching from a role to keys needs a whole key", () => {
    const env = stored({ credentials: { kind: "role", role_arn: "arn:aws:iam::123456789012:role/r", external_id: "x", access_key_id_last4: null, has_secret_key: false } });
    const form = { ...formFromEnvironment(env), credential_kind: "keys" as const };
    expect(validate(form, env).access_key_id).toBeTruthy();
    expect(validate(form, env).secret_access_key).toBeTruthy();
  });
  it("sends a role only when its ARN or the kind changed", () => {
    const role = { kind: "role" as const, role_arn: "arn:aws:iam::123456789012:role/r", external_id: "x", access_key_id_last4: null, has_secret_key: false };
    const env = stored({ credentials: role });
    const form = formFromEnvironment(env);
    expect(credentialsPayload(form, env)).toBeUndefined();
    expect(credentialsPayload({ ...form, role_arn: "arn:aws:iam::123456789012:role/s" }, env)).toEqual({ kind: "role", role_arn: "arn:aws:iam::123456789012:role/s" });
    expect(credentialsPayload({ ...form, credential_kind: "server" }, env)).toEqual({ kind: "server" });
  });
  it("only ever sets is_default to true", () => {
    const env = stored({ is_default: false });
    expect(toUpdatePayload({ ...formFromEnvironment(env), is_default: true }, env)).toEqual({ is_default: true });
  });
});

describe("credentials in words", () => {
  it("never shows more than the key's last four characters", async () => {
    const { describeCredentials, shortCredentials } = await import("./environmentForm");
    const keys = stored().credentials;
    expect(shortCredentials(keys)).toBe("access key …EY42");
    expect(describeCredentials(keys)).toBe("Access key ending in EY42 (secret stored encrypted)");
    expect(shortCredentials({ ...keys, kind: "role", role_arn: "arn:aws:iam::123456789012:role/mantle" })).toBe("role mantle");
  });
});
