// Every page of the app. Each page is its own chunk (lazy): the first load only fetches the
// shell and the page asked for.
import { Suspense, lazy } from "react";
import { Navigate, type RouteObject } from "react-router-dom";
import { Loading } from "./components/ui";
import { Shell } from "./layout/Shell";
import { NotFound } from "./pages/NotFound";
import { PageError } from "./pages/PageError";
import { lastTenant, useMe } from "./session";

const HomePage = lazy(() => import("./pages/home/HomePage"));
const DataPage = lazy(() => import("./pages/data/DataPage"));
const DatasetPage = lazy(() => import("./pages/data/DatasetPage"));
const UploadPage = lazy(() => import("./pages/transfer/UploadPage"));
const ImportPage = lazy(() => import("./pages/transfer/ImportPage"));
const PipelinesPage = lazy(() => import("./pages/pipelines/PipelinesPage"));
const PipelinePage = lazy(() => import("./pages/pipelines/PipelinePage"));
const LaunchPage = lazy(() => import("./pages/pipelines/LaunchPage"));
const RunsPage = lazy(() => import("./pages/runs/RunsPage"));
const RunPage = lazy(() => import("./pages/runs/RunPage"));
const EnvironmentsPage = lazy(() => import("./pages/admin/EnvironmentsPage"));
const EnvironmentPage = lazy(() => import("./pages/admin/EnvironmentPage"));
const MembersPage = lazy(() => import("./pages/admin/MembersPage"));
const TokensPage = lazy(() => import("./pages/admin/TokensPage"));
const InvitePage = lazy(() => import("./pages/invite/InvitePage"));

/** `/`: the tenant used last, else the first one. */
function Start() {
  const me = useMe();
  if (me.isPending) return <Loading />;
  const tenants = me.data?.tenants ?? [];
  const remembered = lastTenant();
  const slug = tenants.find((t) => t.slug === remembered)?.slug ?? tenants[0]?.slug;
  if (!slug) return <NotFound message="You are not a member of any tenant yet. Ask an administrator for an invitation." />;
  return <Navigate to={`/t/${encodeURIComponent(slug)}`} replace />;
}

/** A page that throws or whose chunk fails to load shows PageError in its place (inside the
 * frame for tenant pages), never a blank screen. */
function withErrors(routes: RouteObject[]): RouteObject[] {
  return routes.map((route) =>
    route.children
      ? { ...route, errorElement: <PageError />, children: withErrors(route.children) }
      : { ...route, errorElement: <PageError /> },
  ) as RouteObject[];
}

export const routes: RouteObject[] = withErrors([
  { path: "/", element: <Start /> },
  // Outside the tenant frame: a visitor without an account opens it (the server lets it through).
  {
    path: "/invite",
    element: (
      <Suspense fallback={<Loading />}>
        <InvitePage />
      </Suspense>
    ),
  },
  {
    path: "/t/:tenant",
    element: <Shell />,
    children: [
      { index: true, element: <HomePage /> },
      { path: "data", element: <DataPage /> },
      { path: "data/:type", element: <DataPage /> },
      { path: "datasets/:dataset", element: <DatasetPage /> },
      { path: "upload", element: <UploadPage /> },
      { path: "import", element: <ImportPage /> },
      { path: "pipelines", element: <PipelinesPage /> },
      { path: "pipelines/:ref", element: <PipelinePage /> },
      { path: "launch", element: <LaunchPage /> },
      { path: "runs", element: <RunsPage /> },
      { path: "runs/:run", element: <RunPage /> },
      { path: "environments", element: <EnvironmentsPage /> },
      { path: "environments/:environment", element: <EnvironmentPage /> },
      { path: "members", element: <MembersPage /> },
      { path: "tokens", element: <TokensPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
  { path: "*", element: <NotFound /> },
]);
