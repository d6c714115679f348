// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function HomePage() {
  return <Page title="Home">{null}</Page>;
}
