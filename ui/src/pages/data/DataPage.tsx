// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function DataPage() {
  return <Page title="Data">{null}</Page>;
}
