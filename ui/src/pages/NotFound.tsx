import { Link } from "react-router-dom";
import { Page } from "../components/ui";

export function NotFound({ message }: { message?: string }) {
  return (
    <Page title="Not found">
      <p>{message ?? "There is no page at this address."}</p>
      <p>
        <Link to="/">Go to the start page</Link>
      </p>
    </Page>
  );
}
