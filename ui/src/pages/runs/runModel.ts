// What the run pages compute from the API's answers: which statuses are still moving, how
// long a run or task took, the status timeline, who may cancel / relaunch / resume, and the
// log search. Pure functions (tested in runModel.test.ts).
import type { Schemas } from "../../api/client";
import { secondsBetween } from "../../format";

export type Run = Schemas["RunPublic"];
export type Transition = Schemas["RunTransitionPublic"];
export type Task = Schemas["RunTaskPublic"];
export type LogLine = Schemas["RunLogLine"];

export const RUN_STATUSES = ["QUEUED", "SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"] as const;

const ACTIVE = new Set(["QUEUED", "SUBMITTED", "RUNNING"]);
const RESUMABLE = new Set(["FAILED", "CANCELLED"]);
/** How often live views ask again while something runs. */
export const LIVE_INTERVAL_MS = 2000;

export function isActive(status: string): boolean {
  return ACTIVE.has(status.toUpperCase());
}

export function anyActive(runs: Array<{ status: string }>): boolean {
  return runs.some((r) => isActive(r.status));
}

/** Seconds the run has been going (started -> finished, or -> now while it runs); null
 * before it started. */
export function runSeconds(run: Pick<Run, "started_at" | "submitted_at" | "finished_at" | "status">, now: Date = new Date()): number | null {
  const start = run.started_at ?? run.submitted_at;
  if (!start) return null;
  if (run.finished_at) return secondsBetween(start, run.finished_at);
  return isActive(run.status) ? (now.getTime() - new Date(start).getTime()) / 1000 : null;
}

export function taskSeconds(task: Pick<Task, "duration_ms" | "realtime_ms" | "started_at" | "completed_at" | "status">): number | null {
  if (task.realtime_ms !== null && task.realtime_ms !== undefined) return task.realtime_ms / 1000;
  if (task.duration_ms !== null && task.duration_ms !== undefined) return task.duration_ms / 1000;
  if (task.started_at) return secondsBetween(task.started_at, task.completed_at);
  return null;
}

export type TimelineStep = {
  status: string;
  at: string;
  reason: string;
  /** Seconds spent in this status (until the next one; until now when it is the last and
   * the run is still active; null for the final status). */
  seconds: number | null;
  current: boolean;
};

/** The transitions in order, each with how long the run stayed in it. */
export function buildTimeline(transitions: Transition[], now: Date = new Date()): TimelineStep[] {
  const ordered = [...transitions].sort((a, b) => a.seq - b.seq);
  return ordered.map((t, i) => {
    const next = ordered[i + 1];
    const last = i === ordered.length - 1;
    let seconds: number | null = null;
    if (next) seconds = (new Date(next.at).getTime() - new Date(t.at).getTime()) / 1000;
    else if (isActive(t.to_status)) seconds = (now.getTime() - new Date(t.at).getTime()) / 1000;
    return { status: t.to_status, at: t.at, reason: t.reason, seconds, current: last };
  });
}

/** The one line that says why a run failed (the first line of its reason). */
export function failureLine(run: Pick<Run, "status" | "status_reason">): string | null {
  if (run.status !== "FAILED") return null;
  const line = (run.status_reason || "").split("\n").find((l) => l.trim());
  return line?.trim() || "The run failed without a reason; look at its logs.";
}

export type RunActions = { cancel: boolean; relaunch: boolean; resume: boolean };

/** What the signed-in user may do with a run, as the API decides: viewers nothing; members
 * relaunch any run they can see (and resume a failed or cancelled Nextflow run), cancel their
 * own while it is active; admins cancel any. */
export function runActions(
  run: Pick<Run, "status" | "created_by" | "engine">,
  user: { email: string },
  can: (permission: "launch" | "admin") => boolean,
): RunActions {
  if (!can("launch")) return { cancel: false, relaunch: false, resume: false };
  const own = run.created_by.toLowerCase() === user.email.toLowerCase();
  return {
    cancel: isActive(run.status) && (own || can("admin")),
    relaunch: true,
    resume: run.engine === "nextflow" && RESUMABLE.has(run.status),
  };
}

export type LogMatch = { index: number; line: LogLine };

/** Lines that contain every word of `query` (case-insensitive); all lines when it is empty. */
export function searchLog(lines: LogLine[], query: string): LogMatch[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const found: LogMatch[] = [];
  lines.forEach((line, index) => {
    const text = line.message.toLowerCase();
    if (words.every((w) => text.includes(w))) found.push({ index, line });
  });
  return found;
}

/** `text` cut around each occurrence of the query's words, for highlighting. */
export function highlight(text: string, query: string): Array<{ text: string; hit: boolean }> {
  const words = query.split(/\s+/).filter(Boolean).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (words.length === 0) return [{ text, hit: false }];
  const pattern = new RegExp(`(${words.join("|")})`, "gi");
  return text
    .split(pattern)
    .filter((part) => part !== "")
    .map((part) => ({ text: part, hit: words.some((w) => new RegExp(`^${w}$`, "i").test(part)) }));
}

/** Appends a new page of log lines, keeping at most `max` (the newest). */
export function appendLines(lines: LogLine[], page: LogLine[], max = 20_000): LogLine[] {
  const all = page.length ? lines.concat(page) : lines;
  return all.length > max ? all.slice(all.length - max) : all;
}

export type RunFilters = {
  status: string[];
  pipeline: string;
  createdBy: string;
  since: string;
  until: string;
};

/** The runs list's filters from the page's URL (so a filtered list can be linked to). */
export function filtersFromSearch(search: URLSearchParams): RunFilters {
  return {
    status: search.getAll("status").filter((s) => (RUN_STATUSES as readonly string[]).includes(s)),
    pipeline: search.get("pipeline") ?? "",
    createdBy: search.get("created_by") ?? "",
    since: search.get("since") ?? "",
    until: search.get("until") ?? "",
  };
}

export function filtersToSearch(filters: RunFilters): URLSearchParams {
  const search = new URLSearchParams();
  for (const s of filters.status) search.append("status", s);
  if (filters.pipeline) search.set("pipeline", filters.pipeline);
  if (filters.createdBy) search.set("created_by", filters.createdBy);
  if (filters.since) search.set("since", filters.since);
  if (filters.until) search.set("until", filters.until);
  return search;
}

/** A `datetime-local` value (the user's time zone) as the API's instant. */
export function localToInstant(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
