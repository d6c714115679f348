// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function DatasetPage() {
  return <Page title="Dataset">{null}</Page>;
}
