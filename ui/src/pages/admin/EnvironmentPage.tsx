// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function EnvironmentPage() {
  return <Page title="Environment">{null}</Page>;
}
