// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function ImportPage() {
  return <Page title="Import">{null}</Page>;
}
