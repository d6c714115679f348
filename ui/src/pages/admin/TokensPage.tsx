// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function TokensPage() {
  return <Page title="Tokens">{null}</Page>;
}
