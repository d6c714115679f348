// ConfirmDialog: "are you sure?" before a change that cannot be taken back (remove a member,
// revoke a token, delete an environment): what happens, the API's refusal if any, and the
// action beside a Cancel button.
import type { ReactNode } from "react";
import { Button, Dialog, ErrorMessage } from "./ui";

export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  /** The action's button, e.g. "Revoke token". */
  confirm: string;
  onConfirm: () => void;
  /** Closed by Cancel, Escape or ✕; reset the mutation here so its error does not linger. */
  onClose: () => void;
  busy: boolean;
  error: unknown;
  errorTitle?: string;
  /** What the action does, in words. */
  children: ReactNode;
}) {
  return (
    <Dialog open={props.open} title={props.title} onClose={props.onClose}>
      <div className="stack">
        {props.children}
        <ErrorMessage error={props.error} title={props.errorTitle} />
        <div className="form-actions">
          <Button variant="danger" busy={props.busy} onClick={props.onConfirm}>
            {props.confirm}
          </Button>
          <Button onClick={props.onClose}>Cancel</Button>
        </div>
      </div>
    </Dialog>
  );
}
