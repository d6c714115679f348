// The doctor's report, arranged for reading: checks grouped by what they look at (credentials,
// storage, Batch, hosts and roles), failures first inside each group, and counts. The server
// keeps no history of doctor runs, so the last report of each environment is remembered in this
// browser (localStorage) for the environments list.
import type { Schemas } from "../../api/client";

export type DoctorReport = Schemas["DoctorReport"];
export type Check = Schemas["CheckResult"];
export type CheckStatus = Check["status"];

export type CheckGroup = { title: string; checks: Check[]; counts: Counts };
export type Counts = { pass: number; warn: number; fail: number };

const GROUPS: Array<{ title: string; match: RegExp }> = [
  { title: "Credentials", match: /^credentials$/ },
  { title: "Storage (S3)", match: /^(bucket|read|list|write|multipart|cors) / },
  { title: "AWS Batch", match: /^(queue |compute environments$|job definition$|head image$|logs |ecr$)/ },
  { title: "Hosts and roles", match: /^(instance role|launch template|head job role)$/ },
];
const OTHER = "Other checks";
const ORDER: Record<CheckStatus, number> = { fail: 0, warn: 1, pass: 2 };

export function countChecks(checks: Check[]): Counts {
  const counts: Counts = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.status] += 1;
  return counts;
}

export function groupChecks(checks: Check[]): CheckGroup[] {
  const byTitle = new Map<string, Check[]>();
  for (const title of [...GROUPS.map((g) => g.title), OTHER]) byTitle.set(title, []);
  for (const check of checks) {
    const title = GROUPS.find((g) => g.match.test(check.name))?.title ?? OTHER;
    byTitle.get(title)!.push(check);
  }
  const groups: CheckGroup[] = [];
  for (const [title, list] of byTitle) {
    if (list.length === 0) continue;
    // Stable: the doctor's own order within one status.
    const sorted = list.map((c, i) => [c, i] as const).sort((a, b) => ORDER[a[0].status] - ORDER[b[0].status] || a[1] - b[1]);
    groups.push({ title, checks: sorted.map(([c]) => c), counts: countChecks(list) });
  }
  return groups;
}

/** One line for a report: "All 14 checks passed", "2 of 14 checks failed, 1 warning". */
export function summarize(report: Pick<DoctorReport, "checks">): string {
  const { pass, warn, fail } = countChecks(report.checks);
  const total = pass + warn + fail;
  const warnings = warn ? `${warn} warning${warn === 1 ? "" : "s"}` : "";
  if (fail === 0 && warn === 0) return `All ${total} checks passed`;
  if (fail === 0) return `${pass} of ${total} checks passed, ${warnings}`;
  return `${fail} of ${total} checks failed${warnings ? `, ${warnings}` : ""}`;
}

export type StoredReport = { at: string; ok: boolean; counts: Counts; summary: string };

function storageKey(tenant: string, environment: string): string {
  return `mantle.doctor.${tenant}.${environment}`;
}

export function rememberReport(tenant: string, report: DoctorReport, at: Date = new Date()): StoredReport {
  const stored: StoredReport = {
    at: at.toISOString(),
    ok: report.ok,
    counts: countChecks(report.checks),
    summary: summarize(report),
  };
  try {
    localStorage.setItem(storageKey(tenant, report.environment), JSON.stringify(stored));
  } catch {
    /* storage full or disabled: the list just shows "not checked" */
  }
  return stored;
}

export function lastReport(tenant: string, environment: string): StoredReport | null {
  try {
    const raw = localStorage.getItem(storageKey(tenant, environment));
    if (!raw) return null;
    const parsed = JSON.parse(raw) as StoredReport;
    return typeof parsed.at === "string" && parsed.counts ? parsed : null;
  } catch {
    return null;
  }
}
