// AWS environments of the tenant (admins): where runs execute and data is written. The list
// shows each one's last doctor check (remembered by this browser); "New environment" opens
// the form.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { DataTable, type ColumnDef } from "../../components/DataTable";
import { Button, EmptyState, ErrorMessage, Loading, Page, Section } from "../../components/ui";
import { useEnvironments } from "../../hooks/tenantLists";
import { formatDate } from "../../format";
import { useTenant } from "../../session";
import { AdminOnly } from "./AdminOnly";
import { lastReport } from "./doctor";
import { EnvironmentFormView } from "./EnvironmentFormView";
import { describeCredentials, shortCredentials, type EnvironmentPublic } from "./environmentForm";
import "./admin.css";

export default function EnvironmentsPage() {
  const t = useTenant();
  if (!t.can("admin")) return <AdminOnly title="Environments" what="AWS environments" />;
  return <Environments />;
}

export function DoctorStatus({ tenant, environment }: { tenant: string; environment: string }) {
  const last = lastReport(tenant, environment);
  if (!last) return <span className="muted">not checked yet</span>;
  const tone = last.counts.fail > 0 ? "danger" : last.counts.warn > 0 ? "warning" : "success";
  return (
    <span className="doctor-status" title={`checked ${formatDate(last.at)} in this browser`}>
      <span className={`badge badge-${tone}`}>{last.counts.fail > 0 ? "failing" : last.counts.warn > 0 ? "warnings" : "healthy"}</span>{" "}
      <span className="muted">
        {last.summary} · <span className="nowrap">{formatDate(last.at)}</span>
      </span>
    </span>
  );
}

function Environments() {
  const t = useTenant();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const environments = useEnvironments();
  const href = (env: EnvironmentPublic, tab = "") => t.href(`/environments/${encodeURIComponent(env.name)}${tab}`);
  const columns: ColumnDef<EnvironmentPublic>[] = [
    {
      header: "Name",
      accessorKey: "name",
      cell: ({ row }) => (
        <span className="nowrap">
          <Link to={href(row.original)}>
            <strong>{row.original.name}</strong>
          </Link>
          {row.original.is_default && <span className="badge badge-info default-badge">default</span>}
        </span>
      ),
    },
    { header: "Region", accessorKey: "region", cell: ({ getValue }) => <span className="nowrap">{getValue<string>()}</span> },
    { header: "Account", accessorKey: "account_id", cell: ({ getValue }) => <code>{getValue<string>()}</code> },
    {
      header: "Write bucket",
      id: "bucket",
      cell: ({ row }) => <code className="nowrap">s3://{[row.original.write_bucket, row.original.write_prefix].filter(Boolean).join("/")}</code>,
    },
    { header: "Head queue", accessorKey: "head_queue", cell: ({ getValue }) => <span className="nowrap">{getValue<string>()}</span> },
    {
      header: "Credentials",
      id: "credentials",
      cell: ({ row }) => (
        <span className="muted nowrap" title={describeCredentials(row.original.credentials)}>
          {shortCredentials(row.original.credentials)}
        </span>
      ),
    },
    { header: "Last doctor check", id: "doctor", cell: ({ row }) => <DoctorStatus tenant={t.slug} environment={row.original.name} /> },
    {
      id: "actions",
      header: () => <span className="visually-hidden">Actions</span>,
      cell: ({ row }) => (
        <Link className="btn btn-small nowrap" to={href(row.original, "?tab=doctor")}>
          Run doctor
        </Link>
      ),
    },
  ];
  return (
    <Page
      title="Environments"
      subtitle="The AWS accounts where pipelines run on Batch and data is written: credentials, buckets, queues."
      actions={
        !creating && (
          <Button variant="primary" onClick={() => setCreating(true)}>
            New environment
          </Button>
        )
      }
    >
      {creating && (
        <Section title="New environment" testId="new-environment">
          <EnvironmentFormView
            tenant={t.slug}
            onCancel={() => setCreating(false)}
            onSaved={(env) => {
              void queryClient.invalidateQueries({ queryKey: ["environments", t.slug] });
              navigate(href(env, "?tab=kit"));
            }}
          />
        </Section>
      )}
      {environments.isPending ? (
        <Loading />
      ) : environments.error ? (
        <ErrorMessage error={environments.error} />
      ) : creating && environments.data.length === 0 ? null : (
        <DataTable
          label="Environments"
          testId="environments"
          data={environments.data}
          columns={columns}
          getRowId={(env) => env.id}
          empty={
            <EmptyState
                title="No environments yet"
                action={
                  <Button variant="primary" onClick={() => setCreating(true)}>
                    New environment
                  </Button>
                }
              >
                Connect an AWS account to run pipelines on AWS Batch and keep data in your own S3 buckets. Mantle then gives you a setup kit
                (IAM policies, CORS, CloudFormation) and checks the setup with its doctor.
              </EmptyState>
          }
        />
      )}
    </Page>
  );
}
