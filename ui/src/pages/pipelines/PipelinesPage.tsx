// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function PipelinesPage() {
  return <Page title="Pipelines">{null}</Page>;
}
