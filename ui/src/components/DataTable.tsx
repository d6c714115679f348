// Tables with TanStack Table in "manual" mode: the server sorts, filters and pages (cursor
// pages: the API hands back `next_cursor`), the table renders, sorts on header click (keyboard
// too) and, when asked, keeps a row selection.
import {
  type ColumnDef,
  type OnChangeFn,
  type RowSelectionState,
  type SortingState,
  flexRender,
  getCoreRowModel,
  useReactTable,
} from "@tanstack/react-table";
import type { ReactNode } from "react";
import { Button } from "./ui";

export type { ColumnDef, RowSelectionState, SortingState };

export type DataTableProps<T> = {
  data: T[];
  columns: ColumnDef<T, any>[];
  getRowId: (row: T) => string;
  /** Server-side sorting: one column at a time, like the API's `sort`. */
  sorting?: SortingState;
  onSortingChange?: OnChangeFn<SortingState>;
  rowSelection?: RowSelectionState;
  onRowSelectionChange?: OnChangeFn<RowSelectionState>;
  empty?: ReactNode;
  label: string;
  testId?: string;
  busy?: boolean;
};

export function DataTable<T>(props: DataTableProps<T>) {
  const selectable = props.onRowSelectionChange !== undefined;
  const columns: ColumnDef<T, any>[] = selectable
    ? [
        {
          id: "_select",
          enableSorting: false,
          header: ({ table }) => (
            <input
              type="checkbox"
              aria-label="Select all rows on this page"
              checked={table.getIsAllPageRowsSelected()}
              ref={(el) => {
                if (el) el.indeterminate = table.getIsSomePageRowsSelected();
              }}
              onChange={table.getToggleAllPageRowsSelectedHandler()}
            />
          ),
          cell: ({ row }) => (
            <input
              type="checkbox"
              aria-label={`Select row ${row.id}`}
              checked={row.getIsSelected()}
              onChange={row.getToggleSelectedHandler()}
            />
          ),
        },
        ...props.columns,
      ]
    : props.columns;
  const table = useReactTable({
    data: props.data,
    columns,
    getRowId: props.getRowId,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    manualFiltering: true,
    enableMultiSort: false,
    enableSortingRemoval: false,
    sortDescFirst: false,
    state: {
      sorting: props.sorting ?? [],
      rowSelection: props.rowSelection ?? {},
    },
    onSortingChange: props.onSortingChange,
    onRowSelectionChange: props.onRowSelectionChange,
    enableRowSelection: selectable,
    enableSorting: props.onSortingChange !== undefined,
  });
  if (props.data.length === 0 && props.empty) return <>{props.empty}</>;
  return (
    <div className="table-wrap" aria-busy={props.busy || undefined}>
      <table className="table" aria-label={props.label} data-testid={props.testId}>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                const canSort = header.column.getCanSort();
                const content = flexRender(header.column.columnDef.header, header.getContext());
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                  >
                    {canSort ? (
                      <button type="button" className="th-sort" onClick={header.column.getToggleSortingHandler()}>
                        {content}
                        <span aria-hidden="true" className="sort-mark">
                          {sorted === "asc" ? "▲" : sorted === "desc" ? "▼" : "↕"}
                        </span>
                      </button>
                    ) : (
                      content
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((row) => (
            <tr key={row.id} aria-selected={selectable ? row.getIsSelected() : undefined}>
              {row.getVisibleCells().map((cell) => (
                <td key={cell.id}>{flexRender(cell.column.columnDef.cell, cell.getContext())}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Previous / next over cursor pages. The caller keeps the stack of cursors it came through. */
export function CursorPager(props: {
  page: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
  summary?: ReactNode;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <span className="muted">{props.summary ?? `Page ${props.page}`}</span>
      <Button onClick={props.onPrevious} disabled={!props.hasPrevious}>
        ← Previous
      </Button>
      <Button onClick={props.onNext} disabled={!props.hasNext}>
        Next →
      </Button>
    </nav>
  );
}
