// Data: the tenant's datasets, one table per data type (its properties are the columns), or
// every dataset with its type. Filters, sort, page size and the page itself live in the URL
// (shareable, the back button works); the server filters, sorts and pages (cursor pages, the
// cursors of earlier pages kept in the history entry's state for Previous).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useLocation, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, unwrap, type Schemas } from "../../api/client";
import { type ColumnDef, CursorPager, DataTable, type RowSelectionState } from "../../components/DataTable";
import { Button, EmptyState, ErrorMessage, Field, Loading, Page } from "../../components/ui";
import { useDataTypes } from "../../hooks/tenantLists";
import { formatBytes, formatDate, plural } from "../../format";
import { useTenant } from "../../session";
import { FilterBuilder, type FilterDraft } from "./FilterBuilder";
import {
  PAGE_SIZES,
  type TableState,
  columnsToSort,
  exportUrl,
  fieldChoices,
  listQuery,
  readUrl,
  unreadableFilter,
  sortToColumns,
  writeUrl,
} from "./filters";
import { formatValue } from "./values";
import "./data.css";

type Dataset = Schemas["DatasetPublic"];
type PagerState = { prev?: string[] } | null;

export default function DataPage() {
  const { type } = useParams();
  const tenant = useTenant();
  const navigate = useNavigate();
  const location = useLocation();
  const [searchParams] = useSearchParams();
  const search = searchParams.toString();
  const state = useMemo(() => readUrl(new URLSearchParams(search)), [search]);
  const unreadable = useMemo(() => unreadableFilter(new URLSearchParams(search).get("filter")), [search]);
  const prev = (location.state as PagerState)?.prev ?? [];

  const types = useDataTypes({ staleTime: 60_000 });
  const dataType = types.data?.find((t) => t.name === type);
  const properties = useMemo(() => dataType?.properties ?? [], [dataType]);
  const choices = useMemo(() => fieldChoices(properties), [properties]);
  const { query, errors } = useMemo(() => listQuery(state, type, choices), [state, type, choices]);
  const typeReady = !type || dataType !== undefined;

  const page = useQuery({
    queryKey: ["datasets", tenant.slug, query, state.limit, state.cursor],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/datasets", {
          params: { path: { tenant: tenant.slug }, query: { ...query, limit: state.limit, cursor: state.cursor ?? undefined } },
        }),
      ),
    enabled: typeReady && errors.length === 0,
    placeholderData: keepPreviousData,
  });
  // The total, asked once per query (not per page) and never blocking the rows.
  const total = useQuery({
    queryKey: ["datasets-count", tenant.slug, query],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/tenants/{tenant}/datasets", {
          params: { path: { tenant: tenant.slug }, query: { ...query, limit: 1, count: true } },
        }),
      ).then((r) => r.count ?? null),
    enabled: typeReady && errors.length === 0,
    staleTime: 30_000,
  });

  const [selection, setSelection] = useState<RowSelectionState>({});
  const [selectionKey, setSelectionKey] = useState(type);
  if (selectionKey !== type) {
    setSelectionKey(type);
    setSelection({});
  }
  const selected = Object.keys(selection).filter((id) => selection[id]);

  const go = (next: TableState, pager: PagerState = null) => {
    const params = writeUrl(next).toString();
    navigate({ search: params ? `?${params}` : "" }, { state: pager });
  };
  const applyFilters = (draft: FilterDraft) => go({ ...state, ...draft, cursor: null });
  const draft = useMemo<FilterDraft>(
    () => ({ filter: state.filter, q: state.q, tags: state.tags, archived: state.archived }),
    [state],
  );

  const columns = useMemo(() => datasetColumns(tenant.href, properties, !type), [tenant.href, properties, type]);
  const rows = page.data?.items ?? [];
  const pageNumber = prev.length + 1;
  const first = (pageNumber - 1) * state.limit + 1;
  const filtered = state.filter.groups.length > 0 || state.q !== "" || state.tags.length > 0;
  const summary = rows.length
    ? `Rows ${first.toLocaleString("en-US")}–${(first + rows.length - 1).toLocaleString("en-US")}` +
      (typeof total.data === "number" ? ` of ${total.data.toLocaleString("en-US")}` : "")
    : "No rows";

  return (
    <Page
      title={type ? `Data: ${type}` : "Data"}
      subtitle={dataType?.description || (type ? undefined : "Every dataset of this tenant. Pick a data type to see its properties as columns.")}
      actions={
        tenant.can("write") && (
          <>
            <Link className="btn" to={tenant.href("/import")}>
              Import
            </Link>
            <Link className="btn btn-primary" to={tenant.href("/upload")}>
              Upload
            </Link>
          </>
        )
      }
    >
      <TypeTabs types={types.data ?? []} current={type} href={tenant.href} />
      {types.error && <ErrorMessage error={types.error} title="Data types" />}
      {types.isSuccess && type && !dataType && (
        <EmptyState title={`There is no data type "${type}"`} action={<Link to={tenant.href("/data")}>See all datasets</Link>} />
      )}
      {typeReady && (
        <>
          <FilterBuilder choices={choices} value={draft} onApply={applyFilters} />
          {unreadable && <ErrorMessage error={new Error(unreadable)} />}
          {errors.length > 0 && <ErrorMessage error={new Error(`The filter in this link cannot be used: ${errors.join("; ")}`)} />}

          <div className="row table-toolbar" role="group" aria-label="Selection">
            <span className="muted" data-testid="selection-count">
              {selected.length ? `${plural(selected.length, "dataset")} selected` : "Select rows to launch a pipeline or export them"}
            </span>
            {selected.length > 0 && (
              <Button variant="ghost" onClick={() => setSelection({})}>
                Clear selection
              </Button>
            )}
            <span className="spacer" />
            {tenant.can("launch") && (
              <Button
                variant="primary"
                disabled={!selected.length}
                onClick={() => navigate(`${tenant.href("/launch")}?datasets=${selected.map(encodeURIComponent).join(",")}`)}
              >
                Launch pipeline with these
              </Button>
            )}
            <a className="btn" href={exportUrl(tenant.slug, query, selected)} download data-testid="export-samplesheet">
              Export samplesheet{selected.length ? ` (${selected.length})` : typeof total.data === "number" ? ` (all ${total.data.toLocaleString("en-US")})` : " (all matching)"}
            </a>
          </div>

          {page.error && <ErrorMessage error={page.error} title="Datasets" />}
          {page.isPending && errors.length === 0 ? (
            <Loading label="Loading datasets…" />
          ) : (
            <DataTable
              data={rows}
              columns={columns}
              getRowId={(d) => d.short_id}
              label={type ? `Datasets of type ${type}` : "Datasets"}
              testId="datasets-table"
              busy={page.isFetching}
              sorting={sortToColumns(state.sort)}
              onSortingChange={(updater) => {
                const next = typeof updater === "function" ? updater(sortToColumns(state.sort)) : updater;
                go({ ...state, sort: columnsToSort(next), cursor: null });
              }}
              rowSelection={selection}
              onRowSelectionChange={setSelection}
              empty={
                !page.error &&
                (filtered || state.archived !== "exclude" ? (
                  <EmptyState title="No datasets match these filters">Change or clear the filters above.</EmptyState>
                ) : (
                  <EmptyState
                    title={type ? `No ${type} datasets yet` : "No datasets yet"}
                    action={
                      tenant.can("write") && (
                        <div className="row center">
                          <Link className="btn btn-primary" to={tenant.href("/upload")}>
                            Upload files
                          </Link>
                          <Link className="btn" to={tenant.href("/import")}>
                            Import from a bucket
                          </Link>
                        </div>
                      )
                    }
                  >
                    Upload files or import them from a bucket; pipeline runs add their outputs here too.
                  </EmptyState>
                ))
              }
            />
          )}
          {(rows.length > 0 || prev.length > 0) && (
            <div className="row pager-row">
              <Field label="Rows per page">
                <select value={state.limit} onChange={(e) => go({ ...state, limit: Number(e.target.value), cursor: null })}>
                  {PAGE_SIZES.map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              </Field>
              <CursorPager
                page={pageNumber}
                summary={summary}
                hasPrevious={state.cursor !== null}
                hasNext={Boolean(page.data?.next_cursor) && !page.isPlaceholderData}
                onPrevious={() => {
                  const back = prev.slice(0, -1);
                  const cursor = prev.length ? prev[prev.length - 1] || null : null;
                  go({ ...state, cursor }, back.length ? { prev: back } : null);
                }}
                onNext={() => {
                  const next = page.data?.next_cursor;
                  if (next) go({ ...state, cursor: next }, { prev: [...prev, state.cursor ?? ""] });
                }}
              />
            </div>
          )}
        </>
      )}
    </Page>
  );
}

function TypeTabs(props: { types: Schemas["DataTypePublic"][]; current: string | undefined; href: (p: string) => string }) {
  return (
    <nav className="type-tabs" aria-label="Data types">
      <Link to={props.href("/data")} className={props.current ? undefined : "active"} aria-current={props.current ? undefined : "page"}>
        All datasets
      </Link>
      {props.types.map((t) => (
        <Link
          key={t.name}
          to={props.href(`/data/${encodeURIComponent(t.name)}`)}
          className={props.current === t.name ? "active" : undefined}
          aria-current={props.current === t.name ? "page" : undefined}
        >
          {t.name}
        </Link>
      ))}
    </nav>
  );
}

function datasetColumns(
  href: (p: string) => string,
  properties: Schemas["PropertyDef"][],
  showType: boolean,
): ColumnDef<Dataset, any>[] {
  const columns: ColumnDef<Dataset, any>[] = [
    {
      id: "name",
      header: "Name",
      accessorFn: (d) => d.name, // an accessor makes the column sortable (the server sorts)
      cell: ({ row }) => (
        <Link to={href(`/datasets/${row.original.short_id}`)} className="dataset-link">
          {row.original.name}
        </Link>
      ),
    },
    { id: "id", header: "ID", accessorFn: (d) => d.short_id, cell: ({ row }) => <span className="mono nowrap">{row.original.short_id}</span> },
  ];
  if (showType) {
    columns.push({ id: "data_type", header: "Type", enableSorting: false, cell: ({ row }) => row.original.data_type });
    columns.push({
      id: "properties",
      header: "Properties",
      enableSorting: false,
      cell: ({ row }) => <PropertySummary properties={row.original.properties} />,
    });
  }
  for (const p of properties) {
    columns.push({
      id: `properties.${p.name}`,
      header: p.name,
      accessorFn: (d) => d.properties[p.name],
      cell: ({ row }) => <span className="prop-value">{formatValue(row.original.properties[p.name])}</span>,
    });
  }
  columns.push(
    {
      id: "tags",
      header: "Tags",
      enableSorting: false,
      cell: ({ row }) => (
        <span className="tags">
          {row.original.tags.map((t) => (
            <span key={t} className="tag">
              {t}
            </span>
          ))}
        </span>
      ),
    },
    {
      id: "files",
      header: "Files",
      enableSorting: false,
      cell: ({ row }) => {
        const files = row.original.files;
        const size = files.reduce((sum, f) => sum + (f.size ?? 0), 0);
        return files.length ? (
          <span className="nowrap">
            {plural(files.length, "file")} · {formatBytes(size)}
          </span>
        ) : (
          <span className="muted">—</span>
        );
      },
    },
    {
      id: "created_at",
      header: "Created",
      accessorFn: (d) => d.created_at,
      cell: ({ row }) => (
        <span className="nowrap" title={row.original.created_at}>
          {formatDate(row.original.created_at)}
          {row.original.archived && <span className="badge badge-neutral archived-badge">archived</span>}
        </span>
      ),
    },
  );
  return columns;
}

function PropertySummary({ properties }: { properties: Record<string, unknown> }) {
  const entries = Object.entries(properties).slice(0, 4);
  if (!entries.length) return <span className="muted">—</span>;
  return (
    <span className="prop-summary">
      {entries.map(([k, v]) => (
        <span key={k}>
          <span className="muted">{k}</span> {formatValue(v)}
        </span>
      ))}
    </span>
  );
}
