// What a page shows instead of going blank when it cannot render: its code failed to load
// (typically: Mantle was updated since the tab was opened, and the old page chunk is gone) or
// it threw while rendering. Always words and a way on, never a stack.
import { useRouteError } from "react-router-dom";
import { Button, Page } from "../components/ui";

const CHUNK_FAILED = /dynamically imported module|Importing a module script failed|error loading dynamically imported/i;

export function pageErrorMessage(error: unknown): { title: string; text: string } {
  const message = error instanceof Error ? error.message : String(error ?? "");
  if (CHUNK_FAILED.test(message)) {
    return {
      title: "This page could not be loaded",
      text: "Mantle may have been updated since this tab was opened, or the connection dropped. Reload the page to get the current version.",
    };
  }
  return {
    title: "This page failed",
    text: `Something went wrong while showing this page${message ? ` (${message})` : ""}. Reload the page; if it keeps failing, tell your administrator what you did.`,
  };
}

export function PageError() {
  const { title, text } = pageErrorMessage(useRouteError());
  return (
    <Page title={title}>
      <div className="alert alert-error" role="alert">
        {text}
      </div>
      <p>
        <Button variant="primary" onClick={() => window.location.reload()}>
          Reload the page
        </Button>
      </p>
    </Page>
  );
}
