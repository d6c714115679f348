// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function RunPage() {
  return <Page title="Run">{null}</Page>;
}
