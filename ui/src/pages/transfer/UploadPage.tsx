// PLACEHOLDER: replaced by the page's real implementation (issue #10).
import { Page } from "../../components/ui";

export default function UploadPage() {
  return <Page title="Upload">{null}</Page>;
}
