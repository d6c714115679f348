// Mantle's small design system: accessible building blocks every page uses (labels tied to
// inputs, keyboard focus visible, roles for alerts and progress). Styles in styles.css.
import {
  type ButtonHTMLAttributes,
  type KeyboardEvent,
  type ReactElement,
  type ReactNode,
  cloneElement,
  useEffect,
  useId,
  useRef,
  useState,
} from "react";
import { ApiError, problemLines } from "../api/client";

export function Page(props: { title: string; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${props.title} · Mantle`;
  }, [props.title]);
  return (
    <section className="page">
      <header className="page-header">
        <div>
          <h1>{props.title}</h1>
          {props.subtitle && <p className="muted">{props.subtitle}</p>}
        </div>
        {props.actions && <div className="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

export function Section(props: { title: string; actions?: ReactNode; children: ReactNode; testId?: string }) {
  return (
    <section className="card" data-testid={props.testId}>
      <header className="card-header">
        <h2>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

type ButtonProps = ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: "primary" | "secondary" | "danger" | "ghost";
  busy?: boolean;
};

export function Button({ variant = "secondary", busy = false, className, children, disabled, ...rest }: ButtonProps) {
  return (
    <button
      type="button"
      {...rest}
      className={`btn btn-${variant}${className ? ` ${className}` : ""}`}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
    >
      {busy && <span className="spinner spinner-small" aria-hidden="true" />}
      {children}
    </button>
  );
}

/** A labelled form control: the label, hint and error are tied to the child input by id. */
export function Field(props: { label: string; hint?: ReactNode; error?: string | null; children: ReactElement<Record<string, unknown>> }) {
  const id = useId();
  const hintId = props.hint ? `${id}-hint` : undefined;
  const errorId = props.error ? `${id}-error` : undefined;
  const control = cloneElement(props.children, {
    id,
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" ") || undefined,
    "aria-invalid": props.error ? true : undefined,
  });
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      {control}
      {props.hint && (
        <small id={hintId} className="muted">
          {props.hint}
        </small>
      )}
      {props.error && (
        <small id={errorId} className="field-error">
          {props.error}
        </small>
      )}
    </div>
  );
}

/** Any error, in words: the API's message and each problem it named. Never a stack. */
export function ErrorMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const message =
    error instanceof ApiError
      ? error.message
      : error instanceof Error
        ? error.message
        : "Something went wrong. Reload the page and try again.";
  const problems = error instanceof ApiError ? problemLines(error.details) : [];
  return (
    <div className="alert alert-error" role="alert">
      {title && <strong>{title}: </strong>}
      {message}
      {problems.length > 0 && (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Notice({ children, kind = "info" }: { children: ReactNode; kind?: "info" | "success" | "warning" }) {
  return (
    <div className={`alert alert-${kind}`} role="status">
      {children}
    </div>
  );
}

/** An empty list says what it would hold and what to do next. */
export function EmptyState(props: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty" data-testid="empty-state">
      <p className="empty-title">{props.title}</p>
      {props.children && <p className="muted">{props.children}</p>}
      {props.action}
    </div>
  );
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function ProgressBar(props: { value: number; max: number; label: string }) {
  const pct = props.max > 0 ? Math.min(100, (100 * props.value) / props.max) : 0;
  return (
    <progress className="progress" value={props.value} max={props.max || 1} aria-label={props.label} title={`${pct.toFixed(0)} %`} />
  );
}

const STATUS_TONE: Record<string, string> = {
  SUCCEEDED: "success",
  COMPLETED: "success",
  FAILED: "danger",
  CANCELLED: "neutral",
  CANCELED: "neutral",
  ABORTED: "danger",
  RUNNING: "info",
  SUBMITTED: "info",
  QUEUED: "neutral",
  PENDING: "neutral",
  CACHED: "neutral",
};

export function StatusBadge({ status }: { status: string }) {
  const tone = STATUS_TONE[status.toUpperCase()] ?? "neutral";
  return <span className={`badge badge-${tone}`}>{status.toLowerCase()}</span>;
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <Button
      variant="ghost"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        } catch {
          setCopied(false);
        }
      }}
    >
      {copied ? "Copied" : label}
    </Button>
  );
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Tab from the last control goes to the first and Shift+Tab from the first to the last, so
 * focus never leaves an open modal (a native <dialog> lets it out to the browser's chrome). */
function keepFocusInside(event: KeyboardEvent<HTMLDialogElement>) {
  if (event.key !== "Tab") return;
  const inside = Array.from(event.currentTarget.querySelectorAll<HTMLElement>(FOCUSABLE)).filter((el) => el.offsetParent !== null);
  if (inside.length === 0) return;
  const first = inside[0];
  const last = inside[inside.length - 1];
  const active = document.activeElement;
  if (event.shiftKey && (active === first || !event.currentTarget.contains(active))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && active === last) {
    event.preventDefault();
    first.focus();
  }
}

/** A modal dialog on the native <dialog> element: Escape closes it, focus stays inside while
 * it is open and goes back to the control that opened it. */
export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const [node, setNode] = useState<HTMLDialogElement | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  useEffect(() => {
    if (!node) return;
    if (props.open && !node.open) {
      opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
      node.showModal();
    }
    if (!props.open && node.open) node.close();
    if (!props.open && opener.current) {
      opener.current.focus();
      opener.current = null;
    }
  }, [node, props.open]);
  return (
    <dialog ref={setNode} className="dialog" onClose={props.onClose} onKeyDown={keepFocusInside} aria-label={props.title}>
      <header className="card-header">
        <h2>{props.title}</h2>
        <Button variant="ghost" aria-label="Close" onClick={props.onClose}>
          ✕
        </Button>
      </header>
      {props.open && props.children}
    </dialog>
  );
}

/** Key/value pairs (properties, params). */
export function KeyValues({ items }: { items: Array<[string, ReactNode]> }) {
  if (items.length === 0) return <p className="muted">None.</p>;
  return (
    <dl className="kv">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
