// A run's logs, live: the pipeline's own output (the head job's log: Nextflow's, or the
// script's) or the launcher's log (staging inputs, the engine's start and end, publishing),
// read page by page with the API's cursor, polled while the run is active. Follow keeps the
// newest line in view; search filters the lines and marks the words found.
import { useEffect, useRef, useState } from "react";
import { api, unwrap } from "../../api/client";
import { ErrorMessage, Loading } from "../../components/ui";
import { useTenant } from "../../session";
import { LIVE_INTERVAL_MS, type LogLine, appendLines, highlight, searchLog } from "./runModel";

type Source = "executor" | "launcher";
const PAGE = 1000;

function useLog(run: string, source: Source, live: boolean) {
  const t = useTenant();
  const [state, setState] = useState<{ lines: LogLine[]; error: unknown; loaded: boolean }>({ lines: [], error: null, loaded: false });
  const liveRef = useRef(live);
  const kick = useRef<() => void>(() => undefined);
  liveRef.current = live;

  useEffect(() => {
    let stopped = false;
    let busy = false;
    let cursor: string | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState({ lines: [], error: null, loaded: false });
    const tick = async () => {
      if (busy || stopped) return;
      busy = true;
      clearTimeout(timer);
      let more = false;
      try {
        const page = await unwrap(
          api.GET("/api/v1/tenants/{tenant}/runs/{run}/logs", {
            params: { path: { tenant: t.slug, run }, query: { source, cursor: cursor ?? null, limit: PAGE } },
          }),
        );
        if (stopped) return;
        cursor = page.cursor ?? cursor;
        more = page.lines.length > 0;
        setState((s) => ({ lines: appendLines(s.lines, page.lines), error: null, loaded: true }));
      } catch (e) {
        if (stopped) return;
        setState((s) => ({ ...s, error: e, loaded: true }));
      } finally {
        busy = false;
      }
      // Read on at once while a page came full; every few seconds while the run is active;
      // once more after lines came (the last ones of a run that just ended).
      if (more) timer = setTimeout(tick, liveRef.current ? 250 : 0);
      else if (liveRef.current) timer = setTimeout(tick, LIVE_INTERVAL_MS);
    };
    kick.current = () => void tick();
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [t.slug, run, source]);

  // The run just ended: read what it wrote last.
  useEffect(() => {
    if (!live) kick.current();
  }, [live]);
  return state;
}

export function RunLogs({ run, live }: { run: string; live: boolean }) {
  const [source, setSource] = useState<Source>("executor");
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState("");
  const log = useLog(run, source, live);
  const box = useRef<HTMLDivElement>(null);
  const shown = searchLog(log.lines, query);

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [follow, shown.length]);

  return (
    <div className="stack">
      <div className="log-toolbar">
        <div className="segmented" role="radiogroup" aria-label="Which log">
          <label>
            <input type="radio" name="log-source" checked={source === "executor"} onChange={() => setSource("executor")} /> Pipeline output
          </label>
          <label>
            <input type="radio" name="log-source" checked={source === "launcher"} onChange={() => setSource("launcher")} /> Launcher log
          </label>
        </div>
        <label className="log-search">
          <span className="visually-hidden">Search the log</span>
          <input type="search" placeholder="Search the log" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
        <label className="toggle">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <span className="muted small">
          {query ? `${shown.length} of ${log.lines.length} lines` : `${log.lines.length} lines`}
          {live && " · live"}
        </span>
      </div>
      <ErrorMessage error={log.error} title="The log cannot be read" />
      {!log.loaded ? (
        <Loading label="Reading the log…" />
      ) : (
        <div
          ref={box}
          className="log"
          role="log"
          aria-label={source === "executor" ? "Pipeline output" : "Launcher log"}
          tabIndex={0}
          data-testid="run-log"
          onScroll={(e) => {
            const el = e.currentTarget;
            const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
            if (!atBottom && follow) setFollow(false);
          }}
        >
          {log.lines.length === 0 ? (
            <p className="muted log-empty">{live ? "Nothing logged yet; lines appear here as the run writes them." : "This log is empty."}</p>
          ) : shown.length === 0 ? (
            <p className="muted log-empty">No line contains “{query}”.</p>
          ) : (
            shown.map(({ index, line }) => (
              <div key={index} className="log-line">
                <span className="log-no" aria-hidden="true">
                  {index + 1}
                </span>
                <span className="log-text">
                  {highlight(line.message, query).map((part, i) => (part.hit ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
                </span>
              </div>
            ))
          )}
        </div>
      )}
    </div>
  );
}
