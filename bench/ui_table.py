"""The Data page's table on 1,000,000 datasets: API page changes (cursor pages, sorts, filters,
counts) and, in Debian's chromium, first load after sign-in, page change time and the JS chunks.

    .venv/bin/python bench/ui_table.py                    # 1M rows (seeded once, then cached)
    .venv/bin/python bench/ui_table.py --rows 20000 --pages 20        # a quick smoke run
    .venv/bin/python bench/ui_table.py --api-only --explain           # + the SQL plans

Steps: seed (or reuse) a SQLite data directory with a tenant `bench` of `--rows` `rnaseq`
datasets and a tenant `small` of `--small` (the baseline); start `mantle server` on it (as
tests/live.py does: `mantle db upgrade`, then `mantle server`); time API pages over HTTP;
then sign in with Playwright and time the Data page. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.live import start_live_server, stop_live_server  # noqa: E402

from mantle.db.models import SqlCatalogCounter, SqlDataset, SqlDataType, SqlTenant  # noqa: E402

SEED_VERSION = 1  # bump when the generated rows change: cached seeds are rebuilt
PASSWORD = "bench-admin-password-0123"
ADMIN = "admin@example.com"
TYPE = "rnaseq"
CONDITIONS = ("control", "treated", "knockout", "rescue")
READ_ROOT = "s3://bench-reads/rnaseq/"
TRGM_INDEX = "ix_datasets_name_trgm"  # migration 0006 (PostgreSQL)
CHROMIUM = os.environ.get("MANTLE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [  # tests/web/conftest.py
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DATA_TYPE = {
    "name": TYPE,
    "description": "RNA-seq libraries (benchmark)",
    "properties": [
        {"name": "sample", "type": "string", "required": True},
        {"name": "depth", "type": "integer", "description": "Millions of reads"},
        {"name": "condition", "type": "string", "enum": list(CONDITIONS)},
    ],
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- seeding ---------------------------------------------------------------------------------


def server_env(cache: Path) -> dict[str, str]:
    return {
        **({"MANTLE_DATABASE__URL": db_url(cache)} if POSTGRES else {}),
        "MANTLE_BOOTSTRAP__ADMIN_PASSWORD": PASSWORD,
        "MANTLE_BOOTSTRAP__TENANT": "bench",
        "MANTLE_CATALOG__READ_BUCKETS": json.dumps([READ_ROOT]),
        "MANTLE_WORKER__EMBEDDED": "false",
    }


PG_ADMIN = os.environ.get(
    "MANTLE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "mantle_bench_ui_table"
POSTGRES = False  # --database postgresql


def db_url(cache: Path) -> str:
    if POSTGRES:
        return make_url(PG_ADMIN).set(database=PG_DATABASE).render_as_string(hide_password=False)
    return f"sqlite:///{cache / 'mantle.db'}"


def pg_database(action: str) -> bool:
    """'exists', 'create' or 'drop' the bench database on the PostgreSQL server."""
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if action == "exists":
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DATABASE}
            ).first()
            admin.dispose()
            return found is not None
        if action == "create":
            conn.exec_driver_sql(f'CREATE DATABASE "{PG_DATABASE}"')
        else:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
    admin.dispose()
    return True


def ensure_seeded(cache: Path, rows: int, small: int, fresh: bool) -> None:
    meta = cache / "seed.json"
    wanted = {"version": SEED_VERSION, "rows": rows, "small": small}
    cached = meta.exists() and json.loads(meta.read_text()) == wanted
    if POSTGRES:
        cached = cached and pg_database("exists")
    if not fresh and cached and POSTGRES:
        log(f"reusing the seeded database {PG_DATABASE}")
        return
    if not fresh and cached:
        log(f"reusing the seeded database in {cache}")
        # As a database the app made: SQLite plans without statistics (nothing runs ANALYZE).
        engine = create_engine(db_url(cache))
        with engine.begin() as conn:
            if conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).first():
                conn.exec_driver_sql("DELETE FROM sqlite_stat1")
        engine.dispose()
        return
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    if POSTGRES:
        pg_database("drop")
        pg_database("create")
    server = start_live_server(cache, extra_env=server_env(cache))
    try:
        headers = auth(login(server.url, "bench"))
        httpx.post(
            f"{server.url}/api/v1/tenants", json={"slug": "small"}, headers=headers
        ).raise_for_status()
        for tenant in ("bench", "small"):
            httpx.post(
                f"{server.url}/api/v1/tenants/{tenant}/data-types",
                json=DATA_TYPE,
                headers=auth(login(server.url, tenant)),
            ).raise_for_status()
    finally:
        stop_live_server(server)
    started = time.perf_counter()
    engine = create_engine(db_url(cache))
    indexes = list(SqlDataset.__table__.indexes)
    with engine.begin() as conn:
        if POSTGRES:  # one sorted build beats a million inserts into each GIN index
            for index in indexes:
                index.drop(conn)
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {TRGM_INDEX}")
        else:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
        for slug, count in (("bench", rows), ("small", small)):
            tenant_id = conn.scalar(select(SqlTenant.id).where(SqlTenant.slug == slug))
            type_id = conn.scalar(
                select(SqlDataType.id).where(
                    SqlDataType.tenant_id == tenant_id, SqlDataType.name == TYPE
                )
            )
            insert_datasets(conn, tenant_id, type_id, count)
            log(f"  {slug}: {count:,} datasets at {time.perf_counter() - started:.0f} s")
        conn.execute(
            text(
                "INSERT INTO dataset_versions (dataset_id, version, change, name, "
                "data_type_version, properties, files, tags, archived, created_at, created_by) "
                "SELECT id, 1, 'created', name, data_type_version, properties, files, tags, "
                "archived, created_at, created_by FROM datasets"
            )
        )
        if POSTGRES:
            conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for index in indexes:
                index.create(conn)
            conn.exec_driver_sql(
                f"CREATE INDEX {TRGM_INDEX} ON datasets USING gin (lower(name) gin_trgm_ops)"
            )
    if POSTGRES:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE datasets")
            conn.exec_driver_sql("VACUUM ANALYZE dataset_versions")
    engine.dispose()
    log(f"seeded in {time.perf_counter() - started:.0f} s")
    meta.write_text(json.dumps(wanted))


def insert_datasets(conn, tenant_id, type_id, count: int, chunk: int = 20_000) -> None:
    """What `Datasets.create_many` writes, row for row, without its validation: samples of
    4 libraries each, depth 1-150 (M reads), one of four conditions, a batch tag (50 batches)
    and a QC tag on 4 in 5, one referenced file; created one second apart (pairs tie)."""
    base = datetime(2024, 1, 1, tzinfo=UTC)
    for start in range(1, count + 1, chunk):
        batch = []
        for n in range(start, min(count, start + chunk - 1) + 1):
            h = (n * 2_654_435_761) % 2**32  # a cheap scramble: values unrelated to order
            sample = f"S-{h % (count // 4 + 1):07d}"
            condition = CONDITIONS[(h >> 8) % 4]
            uri = f"{READ_ROOT}{sample}/lib{n}.bam"
            at = base + timedelta(seconds=n // 2)
            batch.append(
                {
                    "id": uuid.uuid4(),
                    "tenant_id": tenant_id,
                    "number": n,
                    "name": f"{sample} {condition} L{n % 4 + 1}",
                    "data_type_id": type_id,
                    "data_type_version": 1,
                    "properties": {
                        "sample": sample,
                        "depth": 1 + (h >> 12) % 150,
                        "condition": condition,
                    },
                    "files": [
                        {
                            "uri": uri,
                            "name": uri.rsplit("/", 1)[1],
                            "size": 2_000_000_000 + h % 1_000_000,
                            "etag": None,
                            "checksum": None,
                            "storage": "referenced",
                        }
                    ],
                    "tags": [f"batch-{n % 50}", *(["qc-pass"] if h % 5 else [])],
                    "origin": "import",
                    "archived": False,
                    "version": 1,
                    "created_at": at,
                    "created_by": ADMIN,
                    "updated_at": at,
                    "updated_by": ADMIN,
                }
            )
        conn.execute(insert(SqlDataset), batch)
    conn.execute(insert(SqlCatalogCounter).values(tenant_id=tenant_id, name="dataset", value=count))


# --- HTTP ------------------------------------------------------------------------------------


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login(url: str, tenant: str) -> str:
    body = {
        "email": ADMIN,
        "password": PASSWORD,
        "tenant": tenant,
        "token_name": f"bench-{uuid.uuid4().hex[:6]}",
    }
    response = httpx.post(f"{url}/api/v1/auth/token", json=body, timeout=30)
    response.raise_for_status()
    return response.json()["token"]


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(ordered), "p50": pick(0.5), "p95": pick(0.95), "max": ordered[-1]}


def fmt(s: dict | None) -> str:
    if not s:
        return "-"
    return f"{s['p50']:7.1f} {s['p95']:7.1f} {s['max']:7.1f}"


SCENARIOS = {
    "default (-created_at)": {"sort": "-created_at"},
    "name": {"sort": "name"},
    "-name": {"sort": "-name"},
    "depth asc (properties.depth)": {"sort": "properties.depth"},
    "depth desc": {"sort": "-properties.depth"},
    "sample (properties.sample)": {"sort": "properties.sample"},
    "filter depth>=100 + tag, -created_at": {
        "sort": "-created_at",
        "where": "depth>=100",
        "tag": "batch-7",
    },
    "filter depth>=100 + tag, name": {"sort": "name", "where": "depth>=100", "tag": "batch-7"},
}


def api_walk(client: httpx.Client, tenant: str, params: dict, pages: int, count: str) -> dict:
    """Page 1 and `pages - 1` next pages through cursors. count: 'no', 'first' or 'every'."""
    path = f"/api/v1/tenants/{tenant}/datasets"
    cursor, first, later, total = None, None, [], None
    for i in range(pages):
        query = {"type": TYPE, "limit": 50, **params}
        if cursor:
            query["cursor"] = cursor
        if count == "every" or (count == "first" and i == 0):
            query["count"] = "true"
        started = time.perf_counter()
        response = client.get(path, params=query)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        body = response.json()
        total = body["count"] if body["count"] is not None else total
        if i == 0:
            first = elapsed
        else:
            later.append(elapsed)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return {"first": first, "next": stats(later) if later else None, "count": total}


def api_run(url: str, tenant: str, pages: int, scenarios: list[str]) -> dict:
    token = login(url, tenant)
    results = {}
    with httpx.Client(base_url=url, headers=auth(token), timeout=120) as client:
        for _ in range(10):  # warm-up
            client.get(f"/api/v1/tenants/{tenant}/datasets", params={"type": TYPE, "limit": 50})
        for name in scenarios:
            for count in ("no", "every"):
                result = api_walk(client, tenant, SCENARIOS[name], pages, count)
                results[(name, count)] = result
                log(
                    f"  {tenant:5} {name:40} count={count:5} first {result['first']:7.1f} ms"
                    f"  next p50/p95/max {fmt(result['next'])}  count {result['count']}"
                )
    return results


# --- SQL plans ---------------------------------------------------------------------------------


@contextmanager
def captured(engine):
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain(url: str, tenant: str, scenarios: list[str]) -> dict[str, str]:
    """The page query (second page: with a cursor) and the count of each scenario, run
    in-process through the catalog's own Selection, with their plans."""
    from mantle.catalog.query import parse_where, select_datasets
    from mantle.db.engine import Database
    from mantle.db.repositories import datatypes

    db = Database(url)
    plans = {}
    with db.session() as s:
        tenant_id = s.scalar(select(SqlTenant.id).where(SqlTenant.slug == tenant))
        type_row = datatypes.get_by_name(s, tenant_id, TYPE)
        for name in scenarios:
            params = SCENARIOS[name]
            tree = {"and": [parse_where(params["where"])]} if "where" in params else None
            selection = select_datasets(
                s,
                tenant_id,
                type_row=type_row,
                filter_tree=tree,
                tags=[params["tag"]] if "tag" in params else [],
                archived="exclude",
                sort=params["sort"],
            )
            _, cursor = selection.page(s, 50)
            timings = {}
            with captured(db.engine) as seen:
                started = time.perf_counter()
                selection.page(s, 50, cursor)
                timings["page 2"] = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                selection.count(s)
                timings["count"] = (time.perf_counter() - started) * 1000
            lines = [f"== {name}: " + ", ".join(f"{k} {v:.1f} ms" for k, v in timings.items())]
            raw = s.connection().connection.dbapi_connection
            for statement, parameters in seen:
                prefix = (
                    "EXPLAIN QUERY PLAN "
                    if db.engine.dialect.name == "sqlite"
                    else "EXPLAIN (ANALYZE, BUFFERS) "
                )
                cur = raw.cursor()
                cur.execute(prefix + statement, parameters)
                plan = cur.fetchall()
                lines.append("  " + " ".join(statement.split())[:400])
                lines += ["    " + " | ".join(str(c) for c in row) for row in plan]
            plans[name] = "\n".join(lines)
    db.dispose()
    return plans


# --- the browser -------------------------------------------------------------------------------

# In the page: click a button, then wait until the table's rows are replaced and painted.
CLICK_AND_WAIT = """
async ([label, index]) => {
  const table = document.querySelector('[data-testid="datasets-table"]');
  const rowsKey = () => Array.from(table.querySelectorAll('tbody tr'))
    .map(r => r.textContent).join('|');
  const before = rowsKey();
  const header = label.startsWith('th:') && label.slice(3).toLowerCase();
  const button = Array.from(document.querySelectorAll(header ? 'th button' : 'button')).find(
    b => header ? b.textContent.trim().toLowerCase().startsWith(header)
                : b.textContent.trim() === label);
  if (!button) throw new Error('no button ' + label);
  const done = new Promise((resolve) => {
    const check = () => {
      const busy = table.closest('[aria-busy="true"]');
      if (!busy && rowsKey() !== before && table.querySelectorAll('tbody tr').length > 0) {
        observer.disconnect();
        performance.mark('rows-' + index);
        // the next frame is painted once two animation frames have run
        requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
        return true;
      }
      return false;
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body,
      {subtree: true, childList: true, characterData: true, attributes: true});
  });
  performance.mark('click-' + index);
  button.click();
  await done;
  performance.mark('painted-' + index);
  const m = performance.measure('page-change-' + index, 'click-' + index, 'painted-' + index);
  const r = performance.measure('rows-' + index, 'click-' + index, 'rows-' + index);
  return [m.duration, r.duration];
}
"""

# The temporary harness (until the Data page exists): the same API page fetched from the page
# with the session cookie, rows put into a plain table, measured the same way.
HARNESS = """
async ([url, pages]) => {
  document.body.innerHTML = '<table data-testid="datasets-table"><tbody></tbody></table>';
  const tbody = document.querySelector('tbody');
  let cursor = null; const out = [];
  for (let i = 0; i < pages; i++) {
    const start = performance.now();
    const r = await fetch(url + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
    const body = await r.json();
    tbody.replaceChildren(...body.items.map((d) => {
      const tr = document.createElement('tr');
      for (const v of [d.short_id, d.name, d.properties.sample, d.properties.depth,
                       d.properties.condition, d.tags.join(', '), d.created_at]) {
        const td = document.createElement('td'); td.textContent = String(v ?? ''); tr.append(td);
      }
      return tr;
    }));
    await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
    out.push(performance.now() - start);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return out;
}
"""


# From the start of every document: when the shell (`who`) and the table's first row appear,
# and when the frame after that is painted (two animation frames later).
WATCH = """
(() => {
  const seen = (window.__seen = {});
  const watch = {shell: '[data-testid="who"]', table: '[data-testid="datasets-table"] tbody tr'};
  const check = () => {
    for (const [name, selector] of Object.entries(watch)) {
      if (seen[name] === undefined && document.querySelector(selector)) {
        seen[name] = performance.now();
        performance.mark(name + '-seen');
        requestAnimationFrame(() => requestAnimationFrame(() => {
          seen[name + '_painted'] = performance.now();
          performance.mark(name + '-visible');
        }));
      }
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true});
})();
"""


APP_DIR = ROOT / "src" / "mantle" / "web" / "ui_dist"


@contextmanager
def ui_from(ref: str | None):
    """Serve the web app of another git ref (e.g. a branch with the Data page) for the run:
    its ui/ is built into the package's ui_dist, which is put back afterwards."""
    if ref is None:
        yield
        return
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="ui-table-") as tmp:
        tree, saved = Path(tmp) / "tree", Path(tmp) / "saved"
        tree.mkdir()
        archive = subprocess.run(
            ["git", "archive", ref, "ui"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        (tree / "ui" / "node_modules").symlink_to(ROOT / "ui" / "node_modules")
        shutil.copy(ROOT / "ui/src/api/schema.d.ts", tree / "ui/src/api/schema.d.ts")
        shutil.copytree(APP_DIR, saved)
        log(f"building the web app of {ref}")
        subprocess.run(
            [
                "npx",
                "vite",
                "build",
                "--logLevel",
                "warn",
                "--outDir",
                str(APP_DIR),
                "--emptyOutDir",
            ],
            cwd=tree / "ui",
            check=True,
        )
        try:
            yield
        finally:
            shutil.rmtree(APP_DIR)
            shutil.copytree(saved, APP_DIR)


def assets() -> dict[str, tuple[int, int]]:
    """Every JS chunk of the build: (bytes, gzipped bytes)."""
    import gzip

    folder = APP_DIR / "assets"
    return {
        p.name: (p.stat().st_size, len(gzip.compress(p.read_bytes()))) for p in folder.glob("*.js")
    }


def browser_run(
    url: str, tenants: list[str], pages: int, sort_column: str, sort_only: bool = False
) -> dict:
    from playwright.sync_api import sync_playwright

    results: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            for tenant in tenants:
                results[tenant] = browser_tenant(
                    browser, url, tenant, pages, sort_column, sort_only
                )
        finally:
            browser.close()
    return results


def browser_tenant(
    browser, url: str, tenant: str, pages: int, sort_column: str, sort_only: bool = False
) -> dict:
    """First load, reload, page changes with the default sort and sorted by `sort_column`,
    and the baselines; `sort_only`: only the page changes sorted by the column."""
    out: dict = {}
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.add_init_script(WATCH)
    page = context.new_page()
    page.set_default_timeout(120_000)
    scripts: list[str] = []
    page.on(
        "requestfinished",
        lambda r: scripts.append(r.url.rsplit("/", 1)[1]) if r.url.endswith(".js") else None,
    )
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    data_path = f"/t/{tenant}/data/{TYPE}"
    # Sign in, landing on the Data page: the browser's cache is cold (a new context).
    page.goto(f"{url}/login?next={data_path}")
    page.fill("input[name=email]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    scripts.clear()
    page.click("button[type=submit]")
    page.get_by_test_id("who").wait_for()
    table = page.get_by_test_id("datasets-table")
    real = True
    try:
        table.locator("tbody tr").first.wait_for(timeout=15_000)
    except Exception:
        real = False
    out["real_page"] = real
    if sort_only:
        sorted_ms = page.evaluate(CLICK_AND_WAIT, [f"th:{sort_column}", 9999])[0]
        out["property sort"] = {"sort click": sorted_ms, **page_changes(page, pages)}
        api = f"/api/v1/tenants/{tenant}/datasets?type={TYPE}&limit=50&sort=properties.depth"
        timings = page.evaluate(HARNESS, [api, min(pages, 20) + 1])
        out["property sort"]["fetch + plain table"] = stats(timings[1:])
        out["console errors"] = errors
        context.close()
        return out
    what = "table" if real else "shell"
    out["first_load"] = first_load(page, what)
    page.wait_for_load_state("networkidle")
    out["first_load_chunks"] = sorted(set(scripts))
    # warm: a reload with the cache filled and the session in place
    page.reload()
    (table.locator("tbody tr").first if real else page.get_by_test_id("who")).wait_for()
    out["reload"] = first_load(page, what)
    if real:
        out["default"] = page_changes(page, pages)
        sorted_ms = page.evaluate(CLICK_AND_WAIT, [f"th:{sort_column}", 9999])[0]
        out["property sort"] = {"sort click": sorted_ms, **page_changes(page, pages)}
    # The baseline, in the same page: the API's pages fetched and put into a plain table,
    # without React or the app (the real page is gone after this).
    api = f"/api/v1/tenants/{tenant}/datasets?type={TYPE}&limit=50"
    for label, sort in (("default", "-created_at"), ("property sort", "properties.depth")):
        n = pages if not real or label == "default" else min(pages, 20)
        timings = page.evaluate(HARNESS, [f"{api}&sort={sort}", n + 1])
        out.setdefault(label, {})["fetch + plain table"] = stats(timings[1:])
    out["console errors"] = errors
    context.close()
    return out


def first_load(page, what: str) -> dict:
    """Navigation start (of the sign-in POST that redirects to the page, or of a reload) ->
    the table's first row (`what` = "shell": the app's frame, while there is no Data page)
    in the DOM, and painted."""
    page.wait_for_function(f"window.__seen && window.__seen.{what}_painted !== undefined")
    return page.evaluate(
        """(what) => {
        const nav = performance.getEntriesByType('navigation')[0];
        return {what, seen: window.__seen[what], painted: window.__seen[what + '_painted'],
                response_end: nav.responseEnd, dom_content_loaded: nav.domContentLoadedEventEnd,
                redirect: nav.redirectEnd - nav.redirectStart};
    }""",
        what,
    )


def page_changes(page, pages: int) -> dict:
    """Next -> rows replaced and painted, `pages` times; then Previous a few times."""
    painted, rows = [], []
    for i in range(pages):
        total, replaced = page.evaluate(CLICK_AND_WAIT, ["Next →", i])
        painted.append(total)
        rows.append(replaced)
    back = [page.evaluate(CLICK_AND_WAIT, ["← Previous", 1000 + i])[0] for i in range(5)]
    return {"page change": stats(painted), "rows replaced": stats(rows), "previous": stats(back)}


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000, help="the baseline tenant's rows")
    parser.add_argument("--pages", type=int, default=50, help="page changes per browser run")
    parser.add_argument("--api-pages", type=int, default=11, help="pages per API walk")
    parser.add_argument("--cache", type=Path, default=None, help="seeded data directory")
    parser.add_argument("--fresh", action="store_true", help="seed again even if cached")
    parser.add_argument("--api-only", action="store_true")
    parser.add_argument("--browser-only", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the SQL plans")
    parser.add_argument("--scenario", action="append", help="only these API scenarios")
    parser.add_argument("--sort-column", default="depth", help="header to sort by in the page")
    parser.add_argument(
        "--no-sort-indexes-compare",
        action="store_true",
        help="skip the property sorts without sort indexes (dropped, measured, made again)",
    )
    parser.add_argument("--ui-from", help="serve the web app of this git ref (e.g. main)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--before",
        help="also run the server of this source tree first (its src/, e.g. from "
        "`git archive main src | tar -x -C /tmp/before`: --before /tmp/before/src)",
    )
    parser.add_argument(
        "--before-revision", default="0010", help="the database revision of --before's code"
    )
    parser.add_argument(
        "--keep", action="store_true", help="PostgreSQL: keep the database for the next run"
    )
    args = parser.parse_args()
    global POSTGRES
    POSTGRES = args.database == "postgresql"
    cache = (
        args.cache
        or Path(os.environ.get("MANTLE_BENCH_CACHE", Path.home() / ".cache" / "mantle-bench"))
        / f"ui_table-{args.database}-{args.rows}-{args.small}"
    )
    ensure_seeded(cache, args.rows, args.small, args.fresh)
    scenarios = args.scenario or list(SCENARIOS)
    try:
        with ui_from(args.ui_from):
            if args.before:
                before = Path(args.before).resolve()
                shutil.rmtree(before / "mantle/web/ui_dist", ignore_errors=True)
                shutil.copytree(APP_DIR, before / "mantle/web/ui_dist")
                downgrade(db_url(cache), args.before_revision)
                log(f"BEFORE: {before} (database at {args.before_revision})")
                run(args, cache, scenarios, before)
                log("AFTER: this tree (the database is upgraded again)")
            run(args, cache, scenarios)
    finally:
        if POSTGRES and not args.keep:
            pg_database("drop")
            (cache / "seed.json").unlink(missing_ok=True)
            log(f"dropped {PG_DATABASE}")


def downgrade(url: str, revision: str) -> None:
    from alembic import command

    from mantle.db import migrate

    started = time.perf_counter()
    command.downgrade(migrate.alembic_config(url), revision)
    log(f"downgraded to {revision} in {time.perf_counter() - started:.0f} s")


def run(args, cache: Path, scenarios: list[str], before: Path | None = None) -> None:
    env = server_env(cache) | ({"PYTHONPATH": str(before)} if before else {})
    started = time.perf_counter()
    server = start_live_server(cache, extra_env=env, log_name="bench-server.log")
    log(
        f"server at {server.url} (pid {server.process.pid}), migrated and started in "
        f"{time.perf_counter() - started:.0f} s"
    )
    try:
        if args.explain and before is None:
            for plan in explain(db_url(cache), "bench", scenarios).values():
                print(plan)
        if before is None and not args.no_sort_indexes_compare:
            without_sort_indexes(args, cache, server.url, scenarios)
        api = {}
        if not args.browser_only:
            for tenant in ("bench", "small"):
                api[tenant] = api_run(server.url, tenant, args.api_pages, scenarios)
        ui = {}
        if not args.api_only:
            ui = browser_run(server.url, ["bench", "small"], args.pages, args.sort_column)
    finally:
        stop_live_server(server)
    report(args, api, ui, "BEFORE" if before else "AFTER" if args.before else "")


def without_sort_indexes(args, cache: Path, url: str, scenarios: list[str]) -> None:
    """Property sorts without the sort indexes (db/sort_indexes.py), then the indexes made
    again (timed): the "before" of the same run, on the same server and data."""
    from mantle.db import sort_indexes

    engine = create_engine(db_url(cache))
    try:
        dropped = sort_indexes.drop_all(engine)
        log(f"WITHOUT SORT INDEXES: dropped {len(dropped)}")
        sorts = [n for n in scenarios if SCENARIOS[n]["sort"].lstrip("-").startswith("prop")]
        api = {}
        if not args.browser_only and sorts:
            api = {t: api_run(url, t, args.api_pages, sorts) for t in ("bench", "small")}
        ui = {}
        if not args.api_only:
            pages = min(args.pages, 20)
            ui = browser_run(url, ["bench", "small"], pages, args.sort_column, sort_only=True)
        report(args, api, ui, "WITHOUT SORT INDEXES (property sorts only)")
        started = time.perf_counter()
        made = sort_indexes.sync_all(engine)
        log(
            f"made {len(made)} sort indexes in {time.perf_counter() - started:.1f} s "
            "(every user type of both tenants)"
        )
    finally:
        engine.dispose()


def report(args, api: dict, ui: dict, label: str) -> None:
    print()
    if label:
        print(f"=== {label} ===")
    if api:
        print(f"API, {TYPE}, 50 rows a page, ms (loopback HTTP; next = cursor pages 2..)")
        print(f"{'scenario':40} {'count':6} | {'bench: first':>12} {'next p50  p95    max':>23} |"
              f" {'small: first':>12} {'next p50  p95    max':>23}")  # fmt: skip
        for (name, count), big in api["bench"].items():
            little = api["small"][(name, count)]
            print(
                f"{name:40} {count:6} | {big['first']:12.1f} {fmt(big['next']):>23} |"
                f" {little['first']:12.1f} {fmt(little['next']):>23}"
            )
    if ui:
        print()
        total = assets()
        for tenant, r in ui.items():
            print(f"browser, tenant {tenant} ({'Data page' if r['real_page'] else 'harness'})")
            for label in ("first_load", "reload"):
                if label not in r:
                    continue
                f = r[label]
                print(
                    f"  {label}: {f['what']} painted {f['painted']:.0f} ms after navigation "
                    f"start (in the DOM {f['seen']:.0f}, HTML response end "
                    f"{f['response_end']:.0f}, DOMContentLoaded {f['dom_content_loaded']:.0f})"
                )
            chunks = r.get("first_load_chunks", [])

            def kib(names, i):
                return sum(total.get(c, (0, 0))[i] for c in names) / 1024

            if chunks:
                print(
                    f"  JS chunks on first load: {len(chunks)} of {len(total)}, "
                    f"{kib(chunks, 0):.0f} of {kib(total, 0):.0f} KiB "
                    f"(gzip {kib(chunks, 1):.0f} of {kib(total, 1):.0f}): {', '.join(chunks)}"
                )
            for label in ("default", "property sort"):
                for what, s in r.get(label, {}).items():
                    if isinstance(s, dict):
                        print(f"  {label:14} {what:14} p50/p95/max {fmt(s)} ms (n={s['n']})")
                    else:
                        print(f"  {label:14} {what:14} {s:.1f} ms")
            if r["console errors"]:
                print(f"  console errors: {r['console errors'][:5]}")


if __name__ == "__main__":
    main()
