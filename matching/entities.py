"""Build employer entities from stored filings: group by FEIN, back-fill FEIN-less rows by name, aggregate per year.

Rules: a FEIN is the identity when the file has one. A FEIN-less filing joins a FEIN entity only when one FEIN
clearly owns its name (≥ 90 % of that name's FEIN-bearing filings, in the same state when the state is known);
otherwise it forms a name-keyed entity. Two FEINs are never merged, however alike their names.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date
from typing import Any

from rapidfuzz import fuzz
from rich.progress import Progress
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, Text, func, select, text
from sqlalchemy.orm import Session

from crawler.models import (
    DolCase,
    DolEntity,
    DolEntityName,
    DolEntityYear,
    EmployerMatch,
    UscisEmployerYear,
    utcnow,
)
from matching import values as v
from matching.bulk import (
    PreparedInsert,
    copy_tuples,
    delete_ids,
    diff_rows,
    keys_built_after,
    prepare_insert,
    return_freed_memory,
    run_insert,
    sqlite_cache,
    update_rows,
)
from matching.loaded import BUILD_VERSION
from matching.normalize import NameForms, clear_caches, legal_words_of, spelled

OWNER_SHARE = 0.9
# A Tax ID filing this share of its name's main Tax ID's petitions or less, in its state, is a slip of it.
SLIP_SHARE = 0.1
STAFFING_SHARE = 0.5
STAFFING_MIN_LCAS = 5
BATCH = 5000
# Entities whose rows are made and written together: bounds the memory of writing them.
WRITE_CHUNK = 5000
# Entities whose rows may be made while the cases go in: every slice of a 1M-case load's 144,000 entities. What
# a slice's rows take is about what its accumulators, freed as they are made, took (+12 MB of peak at 1M cases).
ROWS_AHEAD = 200_000
# SQLite caps bound parameters per statement; stay well under every backend's limit.
IN_CHUNK = 900
SAMPLES = 3


# A tally that is usually of one thing: (thing, count) while it is (most employers file under one name in one
# state), a Counter once there are more. A Counter per employer costs several hundred bytes; at 100,000s of
# employers that was a good part of the build's memory.
_Tally = tuple[Any, int] | Counter[Any] | None


def _tally(cur: _Tally, key: Any, n: int) -> _Tally:
    """`cur` with `n` more of `key` (updated in place once it is a Counter)."""
    if cur is None:
        return (key, n)
    if isinstance(cur, tuple):
        if cur[0] == key:
            return (key, cur[1] + n)
        return Counter({cur[0]: cur[1], key: n})
    cur[key] += n
    return cur


def _counts(cur: _Tally) -> dict[Any, int]:
    if cur is None:
        return {}
    return {cur[0]: cur[1]} if isinstance(cur, tuple) else cur


@dataclass(slots=True)
class _Acc:
    """What is gathered for one entity in Python: bounded by its names and states, never by its filings."""

    fein: str | None
    names: _Tally = None  # (name, source) -> filings
    states: _Tally = None  # state -> filings
    perm: int = 0
    lca: int = 0
    lca_h1b: int = 0
    lca_secondary: int = 0
    uscis: int = 0
    # (kind, case numbers) pairs: a dict and list per entity cost several times as much.
    samples: tuple[tuple[str, tuple[str, ...]], ...] = ()


# Which FEINs file under a name: (fein, count) while there is only one (the common case), else a Counter.
_Feins = tuple[str, int] | Counter[str]


def _bump(table: dict[Any, _Feins], key: Any, fein: str, n: int = 1) -> None:
    cur = table.get(key)
    if cur is None:
        table[key] = (fein, n)
    elif isinstance(cur, tuple):
        if cur[0] == fein:
            table[key] = (fein, cur[1] + n)
        else:
            table[key] = Counter({cur[0]: cur[1], fein: n})
    else:
        cur[fein] += n


def _owner(feins: _Feins | None) -> str | None:
    """The FEIN that clearly owns a name, or None when nobody does or several share it."""
    if not feins:
        return None
    if isinstance(feins, tuple):
        return feins[0]
    (top, n), total = feins.most_common(1)[0], sum(feins.values())
    return top if n / total >= OWNER_SHARE else None


@dataclass
class Pending:
    """Cases of one kind staged in a temporary table, that the build inserts into dol_cases with their entity ids,
    so a new case is written once rather than inserted and then linked.

    The table has `columns` plus `seq` (their order) and `fid`, the filer: an index into `filers`, each an
    (employer_name, fein, state) as stored. What the build would otherwise ask the database was counted while
    the cases were read: cases per (fid, trade name) in `groups`, each filer's SAMPLES latest (decision date,
    case number) pairs, latest first, in `latest`.
    """

    table: str
    columns: tuple[str, ...]
    kind: str
    filers: list[tuple[str, str | None, str | None]]
    groups: dict[tuple[int, str | None], int]
    latest: dict[int, list[tuple[Any, str]]]
    inserted: int = 0
    # The staged cases up to this seq are already counted in PENDING_YEARS (see count_ahead); None: none are.
    counted: int | None = None


@dataclass
class BuildSummary:
    cases: int
    uscis_rows: int
    entities: int
    fein_entities: int
    backfilled: int
    names: int
    seconds: float


# Temporary tables of the build; names unlikely to meet anything of the user's.
EMAP = "jobagg_build_emap"
FMAP = "jobagg_build_fmap"
PENDING_YEARS = "jobagg_build_pending_years"
# The columns of `_year_inner` after its key.
_INNER_COLS = (
    "fiscal_year",
    "kind",
    "status",
    "is_ml",
    "secondary_entity",
    "wage_unit",
    "h1b",
    "n",
    "wage_min",
    "wage_max",
    "latest",
)
YEARS = "jobagg_build_years"
HUB = "jobagg_build_hub"
YEAR_COLS = (
    "perm_certified",
    "perm_certified_expired",
    "perm_denied",
    "perm_withdrawn",
    "perm_ml",
    "perm_ml_certified",
    "perm_wage_min",
    "perm_wage_max",
    "perm_wage_levels",
    "perm_latest_decision",
    "lca_certified",
    "lca_denied",
    "lca_withdrawn",
    "lca_ml_certified",
    "lca_secondary",
    "lca_latest_decision",
    "uscis_initial_approval",
    "uscis_initial_denial",
    "uscis_continuing_approval",
    "uscis_continuing_denial",
)
HUB_COLS = YEAR_COLS[-4:]


def _annual_sql(wage: str) -> str:
    """matching.values.annual() in SQL: the offered wage as a yearly amount, rounded to cents."""
    whens = " ".join(f"WHEN '{unit}' THEN {factor!r}" for unit, factor in v._UNIT_FACTORS.items())
    factor = f"(CASE COALESCE(wage_unit, 'year') {whens} ELSE 1.0 END)"
    return f"CAST(ROUND(CAST({wage} * {factor} AS NUMERIC), 2) AS DOUBLE PRECISION)"


def _year_inner(source: str, key: str, where: str = "") -> str:
    """Cases counted per `key` (an entity or a filer), fiscal year and combination of the columns the yearly
    figures depend on, with their wage bounds and latest decision: the inner half of `_year_select`. `where`
    narrows the cases further."""
    h1b = "CASE WHEN UPPER(REPLACE(COALESCE(visa_class, 'H-1B'), ' ', '')) IN ('H-1B', 'H1B') THEN 1 ELSE 0 END"
    keys = f"{key}, fiscal_year, kind, status, is_ml, secondary_entity, wage_unit"
    positive = "CASE WHEN wage_from > 0 THEN wage_from END"
    return (
        f"SELECT {keys}, {h1b} AS h1b, COUNT(*) AS n, MIN({positive}) AS wage_min, MAX({positive}) AS wage_max, "
        f"MAX(decision_date) AS latest FROM {source} WHERE {key} IS NOT NULL AND fiscal_year IS NOT NULL "
        f"{'AND ' + where + ' ' if where else ''}GROUP BY {keys}, {h1b}"
    )


def _year_select(inner: str) -> str:
    """Per entity and fiscal year, everything dol_entity_years says about PERM and LCA, from `_year_inner` rows.

    Two GROUP BYs: the inner one only counts cases per combination of the columns the figures depend on
    (evaluating one expression per case), the outer one turns those few rows into the figures. Evaluating every
    figure's condition on every case costs several times more. The yearly wage bounds come out the same because
    the annual amount is monotonic in the wage within one unit of pay; and since every figure is a sum, minimum
    or maximum, inner rows may come from several sources at once.
    """
    perm, lca = "kind = 'perm'", "kind = 'lca' AND h1b = 1"
    cert = "status IN ('certified', 'certified_expired')"

    def n(cond: str) -> str:
        return f"SUM(CASE WHEN {cond} THEN n ELSE 0 END)"

    cols = [
        n(f"{perm} AND status = 'certified'"),
        n(f"{perm} AND status = 'certified_expired'"),
        n(f"{perm} AND status = 'denied'"),
        n(f"{perm} AND status IN ('withdrawn', 'certified_withdrawn')"),
        n(f"{perm} AND is_ml"),
        n(f"{perm} AND is_ml AND {cert}"),
        f"MIN(CASE WHEN {perm} AND {cert} THEN {_annual_sql('wage_min')} END)",
        f"MAX(CASE WHEN {perm} AND {cert} THEN {_annual_sql('wage_max')} END)",
        "NULL",
        f"MAX(CASE WHEN {perm} THEN latest END)",
        n(f"{lca} AND status = 'certified'"),
        n(f"{lca} AND status = 'denied'"),
        n(f"{lca} AND status IN ('withdrawn', 'certified_withdrawn')"),
        n(f"{lca} AND status = 'certified' AND is_ml"),
        n(f"{lca} AND secondary_entity"),
        f"MAX(CASE WHEN {lca} THEN latest END)",
        "NULL",
        "NULL",
        "NULL",
        "NULL",
        n(lca),
    ]
    return f"SELECT entity_id, fiscal_year, {', '.join(cols)} FROM ({inner}) g GROUP BY entity_id, fiscal_year"


def _temp_tables() -> tuple[Table, Table, Table, Table]:
    md = MetaData()
    fmap = Table(
        FMAP,
        md,
        Column("fid", Integer, primary_key=True, autoincrement=False),
        Column("entity_id", Integer),
        prefixes=["TEMPORARY"],
    )
    y = DolEntityYear.__table__.c
    emap = Table(
        EMAP,
        md,
        Column("employer_name", String(300)),
        Column("fein", String(9)),
        Column("state", String(40)),
        Column("entity_id", Integer),
        prefixes=["TEMPORARY"],
    )
    years = Table(
        YEARS,
        md,
        Column("entity_id", Integer),
        Column("fiscal_year", Integer),
        # Kept as JSON text here, compared and copied as text: PostgreSQL's json type has no equality.
        *(Column(c, Text if c == "perm_wage_levels" else y[c].type) for c in YEAR_COLS),
        Column("lca_h1b", Integer),
        prefixes=["TEMPORARY"],
    )
    hub = Table(
        HUB,
        md,
        Column("entity_id", Integer),
        Column("fiscal_year", Integer),
        *(Column(c, Integer) for c in HUB_COLS),
        prefixes=["TEMPORARY"],
    )
    return emap, years, hub, fmap


def _executemany(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """Plain tuples straight to the driver, in batches (no per-row SQLAlchemy work)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        copy_tuples(conn, table.name, [c.name for c in table.columns], rows)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(c.name for c in table.columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({', '.join([mark] * len(table.columns))})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for i in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[i : i + BATCH])
    finally:
        cursor.close()


def _stream(conn: Connection, sql: str) -> Iterator[tuple[Any, ...]]:
    """Rows of a large result, fetched in batches (a server-side cursor on PostgreSQL), never all at once."""
    raw = conn.connection.driver_connection
    pg = conn.dialect.name == "postgresql"
    cursor = raw.cursor(name="jobagg_stream") if pg else raw.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(BATCH):
            yield from rows
    finally:
        cursor.close()


def _fill_years(
    conn: Connection,
    hub_t: Table,
    stored: bool,
    pending: bool,
    hub_rows: list[tuple[Any, ...]],
    pending_levels: list[tuple[int, int, str, int]],
) -> None:
    """Every entity's yearly figures into YEARS (indexed), from the stored cases and (`pending`) the staged ones'
    counts in PENDING_YEARS, the USCIS hub's rows and the PERM wage levels; the levels of the staged cases come
    by entity id."""
    pg = conn.dialect.name == "postgresql"
    c = DolCase.__table__.c
    ycols = ", ".join(YEAR_COLS)
    inners = []
    if stored:
        # SQLite is told to read the table in order: through the entity index it would fetch every case at random.
        inners.append(_year_inner("dol_cases" if pg else "dol_cases NOT INDEXED", "entity_id"))
    if pending:
        inners.append(
            f"SELECT m.entity_id, {', '.join('y.' + col for col in _INNER_COLS)} "
            f"FROM {PENDING_YEARS} y JOIN {FMAP} m ON m.fid = y.fid"
        )
    inner = " UNION ALL ".join(inners)
    conn.execute(text(f"INSERT INTO {YEARS} (entity_id, fiscal_year, {ycols}, lca_h1b) {_year_select(inner)}"))
    # Indexed before the hub rows and the PERM wage levels are added by key: each would scan the table otherwise
    # (at 2.5 million cases, hundreds of millions of rows read).
    conn.execute(text(f"CREATE INDEX {YEARS}_k ON {YEARS} (entity_id, fiscal_year)"))
    if pending:
        conn.execute(text(f"DROP TABLE {PENDING_YEARS}"))
    _executemany(conn, hub_t, hub_rows)
    hub_sets = ", ".join(f"{col} = h.{col}" for col in HUB_COLS)
    hub_match = f"h.entity_id = {YEARS}.entity_id AND h.fiscal_year = {YEARS}.fiscal_year"
    conn.execute(text(f"UPDATE {YEARS} SET {hub_sets} FROM {HUB} h WHERE {hub_match}"))
    zeros = ", ".join(
        "NULL" if col.endswith(("_min", "_max", "_levels", "_decision")) else "0" for col in YEAR_COLS[:-4]
    )
    conn.execute(
        text(
            f"INSERT INTO {YEARS} (entity_id, fiscal_year, {ycols}, lca_h1b) "
            f"SELECT h.entity_id, h.fiscal_year, {zeros}, {', '.join('h.' + col for col in HUB_COLS)}, 0 "
            f"FROM {HUB} h WHERE NOT EXISTS (SELECT 1 FROM {YEARS} y "
            "WHERE y.entity_id = h.entity_id AND y.fiscal_year = h.fiscal_year)"
        )
    )
    levels: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    if stored:
        lv = conn.execute(
            select(c.entity_id, c.fiscal_year, c.wage_level, func.count())
            .where(c.kind == "perm", c.wage_level.is_not(None), c.wage_level != "", c.fiscal_year.is_not(None))
            .where(c.entity_id.is_not(None))
            .group_by(c.entity_id, c.fiscal_year, c.wage_level)
        )
        for eid, fy, level, n in lv:
            levels[(eid, fy)][level] = n
    for eid, fy, level, n in pending_levels:
        got = levels[(eid, fy)]
        got[level] = got.get(level, 0) + n
    if levels:
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            # Sorted keys, so the stored JSON text is the same whatever order the cases came in.
            cursor.executemany(
                f"UPDATE {YEARS} SET perm_wage_levels = {mark} WHERE entity_id = {mark} AND fiscal_year = {mark}",
                [(json.dumps(dict(sorted(lv.items()))), eid, fy) for (eid, fy), lv in sorted(levels.items())],
            )
        finally:
            cursor.close()
    del levels


def build_entities(
    session: Session,
    progress: Progress | None = None,
    pending: Pending | None = None,
    forms: NameForms | None = None,
) -> BuildSummary:
    """Rebuild dol_entities, their names and yearly aggregates from all stored filings; set dol_cases.entity_id.

    Filings are never loaded into memory: the database groups them (by name, FEIN, state; then by entity and
    fiscal year), so memory follows the number of distinct employers. Idempotent down to the row: entities
    are reconciled by key, so unchanged ones keep their ids and built_at, and unchanged cases are not written.
    `pending` cases count as filings like the stored ones and are inserted once their entities are known.
    `forms` may hold names already normalised (while their file loaded, say).
    """
    started = time.perf_counter()
    forms = forms if forms is not None else NameForms()
    steps = 5
    task = progress.add_task("building employer entities", total=steps) if progress else None

    def step(what: str) -> None:
        if progress is not None and task is not None:
            progress.update(task, advance=1, description=f"employer entities: {what}")

    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    distinct = "IS DISTINCT FROM" if pg else "IS NOT"
    # Without stored cases (a first load), every figure comes from the pending ones and no case is relinked.
    stored = pending is None or conn.execute(text("SELECT 1 FROM dol_cases LIMIT 1")).first() is not None
    # Pass 1: every distinct filer spelling with its FEIN, state, kind and trade name, counted by the database.
    groups: list[Any] = []
    if stored:
        group_cols = "employer_name, fein, state, kind, trade_name"
        groups = list(conn.execute(text(f"SELECT {group_cols}, COUNT(*) FROM dol_cases GROUP BY {group_cols}")))
    if pending is not None:
        # Counted while the file was read; a spelling both stored and pending is two groups, which add up.
        groups += [(*pending.filers[fid], pending.kind, trade, n) for (fid, trade), n in pending.groups.items()]
        pending.groups.clear()
    cases = sum(g[5] for g in groups)
    hub = _hub_rows(session)
    ent_t = DolEntity.__table__
    have_ents = {r["key"]: dict(r) for r in conn.execute(select(ent_t)).mappings()}
    # The pending cases' yearly counts need no entity: the database works them out while names are settled here.
    counting = _background(lambda: _count_pending(conn, pending)) if pending is not None else None
    step("grouped filings")
    try:
        accs, emap, backfilled, hub_years, hub_rows = _assign(groups, hub, forms)
    except BaseException:
        if counting is not None:
            wait([counting])  # the connection is not to be used while the other thread has it
        raise
    del groups, hub
    step("assigned filings to entities")

    # Entity ids: stored keys keep theirs; new keys get ids in key order after the highest in use.
    next_id = max((r["id"] for r in have_ents.values()), default=0) + 1
    ids: dict[str, int] = {}
    for key in sorted(accs):
        if key in have_ents:
            ids[key] = have_ents[key]["id"]
        else:
            ids[key], next_id = next_id, next_id + 1

    pending_levels = counting.result() if counting is not None else []
    emap_t, years_t, hub_t, fmap_t = _temp_tables()
    for t in (years_t, hub_t):
        t.create(conn)
    fids: list[int] = []
    if pending is not None:
        # Each pending filer's entity id, by the number the reader gave it: the cases are inserted through it.
        fids = [ids[emap[(name, fein or "", state or "")]] for name, fein, state in pending.filers]
        pending.filers.clear()
        fmap_t.create(conn)
        _executemany(conn, fmap_t, list(enumerate(fids)))
    if stored:
        emap_t.create(conn)
        _executemany(conn, emap_t, [(*mk, ids[key]) for mk, key in emap.items()])
        conn.execute(text(f"CREATE INDEX {EMAP}_k ON {EMAP} (employer_name, fein, state)"))
        # Only cases whose entity changed are written: a rebuild over the same filings writes no case.
        conn.execute(
            text(
                f"UPDATE dol_cases SET entity_id = m.entity_id FROM {EMAP} m "
                "WHERE m.employer_name = dol_cases.employer_name AND m.fein = COALESCE(dol_cases.fein, '') "
                f"AND m.state = COALESCE(dol_cases.state, '') AND dol_cases.entity_id {distinct} m.entity_id"
            )
        )
    del emap
    step("linked filings to entities")

    by_id = {i: key for key, i in ids.items()}
    # Yearly aggregates, computed by the database into a temporary table, then reconciled in place. The pending
    # cases are not in dol_cases yet: their counts come per filer, through the filer's entity id given here.
    hub_year_rows = [(ids[key], fy, *vals) for (key, fy), vals in sorted(hub_years.items())]
    entity_levels = [(fids[fid], fy, level, n) for fid, fy, level, n in pending_levels]
    del hub_years, pending_levels

    def aggregate_years() -> None:
        """The database's half, then each entity's H-1B and secondary-entity LCAs onto its accumulator (which
        nothing else touches meanwhile)."""
        _fill_years(conn, hub_t, stored, pending is not None, hub_year_rows, entity_levels)
        for eid, h1b, secondary in conn.execute(
            text(f"SELECT entity_id, SUM(lca_h1b), SUM(lca_secondary) FROM {YEARS} GROUP BY entity_id")
        ):
            acc = accs[by_id[eid]]
            acc.lca_h1b, acc.lca_secondary = int(h1b or 0), int(secondary or 0)

    # A few recent case numbers per entity and kind, so a person can look the filings up. The pending cases'
    # were kept per filer while the file was read; the stored ones are kept while streaming them once below,
    # which is far cheaper than sorting every case by entity and date in the database.
    top: dict[tuple[int, str], list[tuple[Any, str]]] = {}

    def pending_samples() -> None:
        """Python only, so it runs while the database aggregates the years."""
        if pending is None:
            return
        # Dates as the database would give them.
        as_date = date.fromisoformat if pg else str
        kind = pending.kind
        while pending.latest:
            fid, latest = pending.latest.popitem()
            key = (fids[fid], kind)
            if key not in top:  # most entities have one filer, whose list is already latest first
                top[key] = [(as_date(decided), cn) for decided, cn in latest]
                continue
            for decided, cn in latest:
                keep_latest(top, key, as_date(decided), cn)

    with _alongside(aggregate_years):
        pending_samples()
    step("aggregated fiscal years")

    if stored:
        for eid, kind, decided, cn in _stream(
            conn,
            f"SELECT entity_id, kind, decision_date, case_number FROM dol_cases{'' if pg else ' NOT INDEXED'} "
            "WHERE decision_date IS NOT NULL AND entity_id IS NOT NULL",
        ):
            keep_latest(top, (eid, kind), decided, cn)
    # Popped, so each entity's lists go as its samples are kept (and no sorted copy of them all is made).
    while top:
        (eid, kind), got = top.popitem()
        acc = accs[by_id[eid]]
        acc.samples = (*acc.samples, (kind, tuple(cn for _, cn in got)))

    summary = BuildSummary(
        cases=cases,
        uscis_rows=hub_rows,
        entities=len(accs),
        fein_entities=sum(1 for a in accs.values() if a.fein),
        backfilled=backfilled,
        names=sum(len(_counts(a.names)) for a in accs.values()),
        seconds=0.0,
    )
    # The pending cases go in while the entities' first rows are made.
    insert = (lambda: _insert_pending(conn, pending, first=not stored)) if pending is not None else None
    # What the assignment and the yearly figures freed goes back to the system before the cases go in (at 1M
    # cases: about 80 MB in a few milliseconds), so it does not add to the insert's peak.
    return_freed_memory()
    _write(session, accs, ids, have_ents, distinct, forms, insert)  # empties accs as it goes
    for t in (emap_t, years_t, hub_t, fmap_t):
        t.drop(conn, checkfirst=True)
    step("written")
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _assign(
    groups: list[Any], hub: list[Any], forms: NameForms
) -> tuple[dict[str, _Acc], dict[tuple[str, str, str], str], int, dict[tuple[str, int], list[int | None]], int]:
    """Each filer spelling's entity: its accumulators by entity key, entity keys by (name, FEIN or "", state or
    ""), the filings back-filled to a FEIN, and the hub rows' counts per (entity key, fiscal year) and number."""
    # One spelling per name from here on (the stored text itself when it already is that spelling).
    spellings: dict[str, tuple[str, tuple[str, str]]] = {}
    for name in {g[0] for g in groups}:
        vname = spelled(name)
        spellings[name] = (vname, ("F" + forms.full_key(vname), "L" + forms.legal_key(vname)))
    # Which FEIN files under which name (and name + state)? Two keys: with and without legal suffix. Only names
    # that a FEIN-less filing or a hub row will ask about are tallied: the others' owners are never looked up.
    asked = _asked_keys(spellings, groups, hub, forms)
    by_key: dict[str, _Feins] = {}
    by_key_state: dict[tuple[str, str], _Feins] = {}
    for name, fein, state, _kind, _trade, n in groups:
        if fein:
            for k in spellings[name][1]:
                if k not in asked:
                    continue
                _bump(by_key, k, fein, n)
                if state:
                    _bump(by_key_state, (k, state), fein, n)

    accs: dict[str, _Acc] = {}
    backfilled = 0

    def owner_of(pair: tuple[str, str], state: str | None) -> str | None:
        """Exact name (suffix kept) before legal name; same state before anywhere; ambiguity stops the search."""
        for k in pair:
            if state and (k, state) in by_key_state:
                return _owner(by_key_state[(k, state)])
            if k in by_key:
                return _owner(by_key[k])
        return None

    def entity_for(fein: str | None, pair: tuple[str, str], state: str | None, n: int = 1) -> str:
        nonlocal backfilled
        if fein:
            key = f"fein:{fein}"
        else:
            owner = owner_of(pair, state)
            if owner:
                backfilled += n
                key = f"fein:{owner}"
            else:
                key = f"name:{pair[1][1:]}"
        key = key[:320]
        if key not in accs:
            accs[key] = _Acc(key[5:] if key.startswith("fein:") else None)
        return key

    # Pass 2: each spelling's entity, names, states and counts.
    emap: dict[tuple[str, str, str], str] = {}
    for name, fein, state, kind, trade_name, n in groups:
        vname, pair = spellings[name]
        lk = pair[1][1:]
        mkey = (name, fein or "", state or "")
        key = emap.get(mkey)
        if key is None:
            key = emap[mkey] = entity_for(fein, pair, state, n)
        elif not fein and key.startswith("fein:"):
            backfilled += n
        acc = accs[key]
        acc.names = _named(acc.names, vname, kind, n, lk, forms, trade_name)
        if state:
            acc.states = _tally(acc.states, state, n)
        if kind == "perm":
            acc.perm += n
        else:
            acc.lca += n

    # Pass 3: USCIS hub rows attach by FEIN last four + similar name, else by clear name ownership.
    hub_years, hub_rows = _attach_hub(hub, accs, entity_for, forms)
    # Name ownership is settled: its tables and the names' memoised forms are not needed while the database works.
    for table in (spellings, by_key, by_key_state, asked):
        table.clear()
    clear_caches()

    return accs, emap, backfilled, hub_years, hub_rows


def keep_latest(top: dict[Any, list[tuple[Any, str]]], key: Any, decided: Any, cn: str) -> None:
    """Keep (decided, cn) among the SAMPLES latest of `key`, latest first."""
    got = top.get(key)
    if got is None:
        top[key] = [(decided, cn)]
    elif len(got) < SAMPLES:
        got.append((decided, cn))
        got.sort(reverse=True)
    elif (decided, cn) > got[-1]:
        got[-1] = (decided, cn)
        got.sort(reverse=True)


def _background(fn: Callable[[], Any]) -> Future[Any]:
    """Run `fn` in a thread: database work there overlaps Python work here (neither driver holds the GIL while
    the database works). The caller must not use the same connection until it has the result."""
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(fn)
    finally:
        pool.shutdown(wait=False)


@contextmanager
def _alongside(fn: Callable[[], Any]) -> Iterator[Future[Any]]:
    """Run `fn` (database work on the caller's connection) in another thread while the block does Python work.
    Leaving the block waits for it, error or not (the connection is not to be used while the other thread has
    it), then raises what it raised."""
    job = _background(fn)
    try:
        yield job
    finally:
        wait([job])
    job.result()


def _count_pending(conn: Connection, pending: Pending) -> list[tuple[int, int, str, int]]:
    """Per pending filer, the yearly counts (into PENDING_YEARS) and PERM wage levels (returned)."""
    if pending.counted is None:
        conn.execute(text(f"CREATE TEMPORARY TABLE {PENDING_YEARS} AS {_year_inner(pending.table, 'fid')}"))
    else:
        rest = _year_inner(pending.table, "fid", f"seq > {int(pending.counted)}")
        conn.execute(text(f"INSERT INTO {PENDING_YEARS} {rest}"))
    if pending.kind != "perm":
        return []  # every staged case is of the file's kind: only PERM cases have wage levels
    return [
        (fid, fy, level, n)
        for fid, fy, level, n in conn.execute(
            text(
                f"SELECT fid, fiscal_year, wage_level, COUNT(*) FROM {pending.table} WHERE kind = 'perm' "
                "AND wage_level IS NOT NULL AND wage_level != '' AND fiscal_year IS NOT NULL "
                "GROUP BY fid, fiscal_year, wage_level"
            )
        )
    ]


def count_ahead(conn: Connection, table: str, counted: int | None, upto: int) -> int:
    """Count the staged cases with seq in (`counted`, `upto`] into PENDING_YEARS, made on the first call; returns
    `upto`. Done while a file is still being read, it leaves the build only the last few cases to count: every
    yearly figure is a sum, minimum or maximum, so the chunks' rows add up in `_year_select` like one count."""
    if counted is None:
        conn.execute(text(f"CREATE TEMPORARY TABLE {PENDING_YEARS} AS {_year_inner(table, 'fid', f'seq <= {upto}')}"))
    else:
        chunk = _year_inner(table, "fid", f"seq > {int(counted)} AND seq <= {int(upto)}")
        conn.execute(text(f"INSERT INTO {PENDING_YEARS} {chunk}"))
    return upto


def _insert_pending(conn: Connection, pending: Pending, first: bool = False) -> None:
    """Insert the staged cases with their entity ids, in their staged order (so ids follow the file). Into an
    empty table (`first`) the keys are built after the rows: a case the file repeats then fails the unique key's
    creation instead of the insert, the same IntegrityError with the same fallback."""
    cols = ", ".join(pending.columns)
    picks = ", ".join(f"s.{col}" for col in pending.columns)
    # 32 MB holds the indexes' hot pages: a bigger cache is no faster, a smaller one much slower (at 1M cases).
    with (
        sqlite_cache(conn, 32768, temp=False),
        keys_built_after(conn, [DolCase.__table__]) if first else nullcontext(),
    ):
        res = conn.execute(
            text(
                f"INSERT INTO dol_cases ({cols}, entity_id) SELECT {picks}, m.entity_id FROM {pending.table} s "
                f"JOIN {FMAP} m ON m.fid = s.fid ORDER BY s.seq"
            )
        )
    pending.inserted = res.rowcount


def _asked_keys(
    spellings: dict[str, tuple[str, tuple[str, str]]], groups: list[Any], hub: list[Any], forms: NameForms
) -> set[str]:
    """Every name key whose owning FEIN the build may look up: those of FEIN-less filings and of USCIS hub rows."""
    asked = {k for name, fein, *_ in groups if not fein for k in spellings[name][1]}
    # A hub row that turns out a namesake asks again with an empty exact-name key.
    asked.add("F")
    for name in {h.employer_name for h in hub}:
        asked.add("F" + forms.full_key(name))
        asked.add("L" + forms.legal_key(name))
    return asked


def _hub_rows(session: Session) -> list[Any]:
    u = UscisEmployerYear.__table__.c
    return session.execute(
        select(
            u.fiscal_year,
            u.employer_name,
            u.tax_id,
            u.state,
            u.initial_approval,
            u.initial_denial,
            u.continuing_approval,
            u.continuing_denial,
        ).order_by(u.fiscal_year, u.employer_name, u.tax_id, u.state, u.city, u.zip)
    ).all()


def _attach_hub(
    hub: list[Any], accs: dict[str, _Acc], entity_for: Any, forms: NameForms
) -> tuple[dict[tuple[str, int], list[int | None]], int]:
    """Attach USCIS hub rows (`_hub_rows`) to entities; returns their counts per (entity key, fiscal year) and the
    row count.

    The hub's Tax ID is the FEIN's last four digits. A row joins the FEIN entity with those last four and a
    similar name (the same name up to its legal form counts: "ACME INC" and "ACME LLC"). Without such a FEIN, rows
    that share a name but not a Tax ID are namesakes and stay apart; one Tax ID under one name ties that
    employer's years together, whatever legal form each year's name carries. A Tax ID that is a slip of the
    name's main one (`_slipped_tax_ids`) counts as the main one, and the spellings of one name under one Tax ID
    (`_one_employer_spellings`) are one employer.
    """
    # Each hub name's legal key, worked out once: the passes below ask for it per row, and rows repeat names.
    legal_of = {name: forms.legal_key(name) for name in {h.employer_name for h in hub}}
    slips = _slipped_tax_ids(hub, legal_of)
    spelt_as = _one_employer_spellings(hub, forms, legal_of, slips)
    # Only FEINs whose last four digits the hub mentions can take a hub row: the others' names are not gathered.
    tax_ids = {h.tax_id for h in hub if h.tax_id}
    fein_names: dict[str, dict[str, set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    for acc in accs.values():
        if acc.fein and acc.fein[-4:] in tax_ids:
            for name, _src in _counts(acc.names):
                fein_names[acc.fein[-4:]][acc.fein].add((forms.clean(name), forms.legal_key(name)))
    taxes_by_name: dict[str, set[str]] = defaultdict(set)
    for h in hub:
        if h.tax_id:
            tax_id = slips.get((legal_of[h.employer_name], h.tax_id), h.tax_id)
            taxes_by_name[legal_of[spelt_as.get((h.employer_name, tax_id), h.employer_name)]].add(tax_id)
    out: dict[tuple[str, int], list[int | None]] = {}
    for h in hub:
        hub_clean = forms.clean(h.employer_name)
        own = legal_of[h.employer_name]
        tax_id = slips.get((own, h.tax_id), h.tax_id)
        # The entity is the one of the name's main spelling under its Tax ID.
        main = spelt_as.get((h.employer_name, tax_id), h.employer_name)
        hub_legal = legal_of[main]
        fein = None
        candidates = fein_names.get(tax_id, {}) if tax_id else {}
        scored = []
        for cand_fein, names in candidates.items():
            best = max(100.0 if lk == hub_legal else _hub_similarity(hub_clean, n) for n, lk in names)
            if best >= 85:
                scored.append((best, cand_fein))
        if len(scored) == 1 or (len(scored) > 1 and sorted(scored)[-1][0] - sorted(scored)[-2][0] >= 10):
            fein = max(scored)[1]
        pair = ("F" + forms.full_key(main), "L" + hub_legal)
        key = entity_for(fein, pair, h.state or None)
        if fein is None and tax_id and key.startswith("fein:") and key[-4:] != tax_id:
            # Name ownership points at a FEIN with other last four digits: a namesake, not that employer.
            key = entity_for(None, ("F", "L" + hub_legal), None)
        if not key.startswith("fein:") and tax_id and len(taxes_by_name[hub_legal]) > 1:
            key = f"name:{hub_legal}#{tax_id}"[:320]
            accs.setdefault(key, _Acc(None))
        acc = accs[key]
        # A hub name counts its petitions, not its rows: one row per city and Tax ID says nothing of size, and the
        # join weighs namesakes by filings (MARVELL SEMICONDUCTOR INC: 11 rows, 729 petitions).
        petitions = _petitions(h)
        acc.names = _named(acc.names, " ".join(h.employer_name.upper().split()), "uscis", petitions, own, forms)
        acc.uscis += 1
        if h.state:
            acc.states = _tally(acc.states, h.state, petitions)
        vals = out.setdefault((key, h.fiscal_year), [None, None, None, None])
        for i, f in enumerate(("initial_approval", "initial_denial", "continuing_approval", "continuing_denial")):
            val = getattr(h, f)
            if val is not None:
                vals[i] = (vals[i] or 0) + val
    # Keys looked up on the way to a namesake key were created empty: they are not entities.
    for key in [k for k, a in accs.items() if not a.names]:
        del accs[key]
    return out, len(hub)


def _petitions(h: Any) -> int:
    """A hub row's petitions decided (approvals and denials, new and continuing); one at least: a row says one."""
    counts = (h.initial_approval, h.initial_denial, h.continuing_approval, h.continuing_denial)
    return max(sum(c or 0 for c in counts), 1)


def _named(
    names: Any, name: str, kind: str, n: int, legal: str, forms: NameForms, trade_name: str | None = None
) -> Any:
    """`names` with `n` filings under `name` (from source `kind`) and under each trade name it carries: the filing's
    own trade-name column, a "... D/B/A <trade>" or a trade name in brackets, unless it is the legal name again."""
    names = _tally(names, (name, kind), n)
    for trade in (trade_name, forms.dba(name), forms.aside(name)):
        if trade and forms.clean(trade) and forms.legal_key(trade) != legal:
            names = _tally(names, (" ".join(trade.upper().split()), "trade"), n)
    return names


def _slipped_tax_ids(hub: list[Any], legal_of: dict[str, str]) -> dict[tuple[str, str], str]:
    """(legal name key, Tax ID) -> the name's main Tax ID, for Tax IDs that are slips of it.

    Petitioners mistype the four digits: the real exports list GOOGLE LLC, Mountain View, under 16 Tax IDs, one
    with ~6,000 petitions a year and fifteen with one to three (0581, 3851, 9581 beside 3581). Under one legal
    name and in one of the main Tax ID's states (a state registers a name once), a Tax ID one keystroke from the
    main one (a digit changed or two swapped), or filing a tenth of its petitions or less, is that employer; the
    same name elsewhere, or as big and unlike, stays a namesake.
    """
    size: dict[str, Counter[str]] = defaultdict(Counter)
    states: dict[tuple[str, str], set[str]] = defaultdict(set)
    for h in hub:
        if h.tax_id:
            legal = legal_of[h.employer_name]
            size[legal][h.tax_id] += _petitions(h)
            if h.state:
                states[(legal, h.tax_id)].add(h.state)
    slips: dict[tuple[str, str], str] = {}
    for legal, by_tax in size.items():
        if len(by_tax) < 2:
            continue
        main, most = max(by_tax.items(), key=lambda tc: (tc[1], tc[0]))
        home = states[(legal, main)]
        for tax_id, n in by_tax.items():
            if n >= most or not states[(legal, tax_id)] & home:
                continue
            if n <= most * SLIP_SHARE or _one_keystroke(tax_id, main):
                slips[(legal, tax_id)] = main
    return slips


def _one_employer_spellings(
    hub: list[Any], forms: NameForms, legal_of: dict[str, str], slips: dict[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    """(hub name, Tax ID) -> the main spelling of that employer's name, for names spelt several ways under one
    Tax ID: the hub cuts names at 34 characters and abbreviates ("BLUECREST CAPITAL MGMT NY LLP" and "BLUECREST
    CAPITAL MGMT NEW YORK LP", both 1234; "TOYOTA MOTOR ENGINEERING MANUFAC" beside "... ENGRG MANUFACTURING NAM").
    Names with one Tax ID and the same first two words (or one word, for a one-word name) are one employer; the
    main spelling is the one with most petitions, then the longest (the least cut)."""
    head_of: dict[str, tuple[str, ...]] = {}
    petitions: dict[tuple[str, tuple[str, ...]], Counter[str]] = defaultdict(Counter)
    for h in hub:
        if not h.tax_id:
            continue
        name = h.employer_name
        head = head_of.get(name)
        if head is None:
            head = head_of[name] = tuple(legal_words_of(forms.clean(name))[:2])
        if not head:
            continue
        tax_id = slips.get((legal_of[name], h.tax_id), h.tax_id)
        petitions[(tax_id, head)][name] += _petitions(h)
    out: dict[tuple[str, str], str] = {}
    for (tax_id, _head), names in petitions.items():
        if len({legal_of[n] for n in names}) < 2:
            continue
        main = max(names, key=lambda n: (names[n], len(n), n))
        for name in names:
            out[(name, tax_id)] = main
    return out


def _one_keystroke(a: str, b: str) -> bool:
    """Whether two digit strings of one length differ by one changed digit or two neighbours swapped."""
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def _hub_similarity(hub_clean: str, dol_clean: str) -> float:
    """The hub cuts names at ~35 characters and abbreviates, so compare prefixes as well as whole names."""
    if dol_clean.startswith(hub_clean) or hub_clean.startswith(dol_clean):
        return 100.0
    return max(fuzz.ratio(hub_clean, dol_clean), fuzz.ratio(hub_clean, dol_clean[: len(hub_clean)]))


def _rows_for(key: str, acc: _Acc, forms: NameForms) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The entity row (no id) and its name rows (no entity id) for one entity."""
    if isinstance(acc.names, tuple):  # one name: most employers
        (name, src), count = acc.names
        names = [(name, src, count)]
        display = name
    else:
        # A name filed under several sources keeps the most frequent one (alphabetical on a tie).
        names = sorted(((n, src, c) for (n, src), c in acc.names.items()), key=lambda x: (-x[2], x[0], x[1]))
        # DOL's own spellings first: the hub writes names in capitals, cut at ~35 characters.
        legal_names = (
            [(n, c) for n, src, c in names if src not in ("trade", "uscis")]
            or [(n, c) for n, src, c in names if src != "trade"]
            or [(n, c) for n, _, c in names]
        )
        # Most filings, then shortest, then alphabetical: ties never depend on the order rows were read.
        display = min(legal_names, key=lambda nc: (-nc[1], len(nc[0]), nc[0]))[0]
    states = acc.states
    if isinstance(states, tuple):
        state: str | None = states[0]
    else:
        state = min(states.items(), key=lambda sc: (-sc[1], sc[0]))[0] if states else None
    entity = {
        "key": key,
        "name": display[:300],
        "fein": acc.fein,
        "state": state,
        "is_staffing": acc.lca_h1b >= STAFFING_MIN_LCAS and acc.lca_secondary / acc.lca_h1b > STAFFING_SHARE,
        "perm_cases": acc.perm,
        "lca_cases": acc.lca,
        "uscis_rows": acc.uscis,
        "sample_cases": {k: list(cns) for k, cns in sorted(acc.samples)} if acc.samples else None,
        "build_version": BUILD_VERSION,
    }
    seen: dict[str, dict[str, Any]] = {}
    for name, src, count in names:
        name = name[:300]
        if name in seen:
            seen[name]["filings"] += count
            continue
        clean, core, legal, tokens = forms.stored(name)
        seen[name] = {
            "name": name,
            "clean": clean,
            "core_key": core,
            "legal_key": legal,
            "tokens": tokens,
            "source": src,
            "filings": count,
        }
    return entity, list(seen.values())


def _ids(conn: Connection, sql: str) -> set[int]:
    return {r[0] for r in conn.execute(text(sql))}


@dataclass
class _Slice:
    """A slice of entities' writes, ready to run."""

    new_max: int  # the highest new entity id (0: none)
    ent_ins: PreparedInsert
    ent_upd: list[dict[str, Any]]
    stamp_only: list[int]
    name_ins: PreparedInsert
    name_upd: list[dict[str, Any]]


def _slice_rows(
    keys: list[str], accs: dict[str, _Acc], ids: dict[str, int], forms: NameForms
) -> tuple[dict[str, dict[str, Any]], dict[tuple[int, str], dict[str, Any]]]:
    """The entity rows (by key) and name rows (by entity id and name) of a slice of entities."""
    want_ents: dict[str, dict[str, Any]] = {}
    want_names: dict[tuple[int, str], dict[str, Any]] = {}
    for key in keys:
        # Popped: each entity's accumulator is freed as its rows are made, so the two never peak together.
        entity, names = _rows_for(key, accs.pop(key), forms)
        entity_id = ids[key]
        want_ents[key] = {"id": entity_id, **entity}
        for n in names:
            want_names[(entity_id, n["name"])] = {"entity_id": entity_id, **n}
    return want_ents, want_names


def _write(
    session: Session,
    accs: dict[str, _Acc],
    ids: dict[str, int],
    have_ents: dict[str, dict[str, Any]],
    distinct: str,
    forms: NameForms,
    meanwhile: Callable[[], Any] | None = None,
) -> None:
    """Reconcile stored entities, names and years with the build: unchanged rows (and their ids) stay as they are.

    Entity and name rows are made and written a slice of entities at a time, so they never all sit in memory.
    `meanwhile` (database work on the same connection) runs in another thread while the first slices are made.
    """
    conn = session.connection()
    pg = conn.dialect.name == "postgresql"
    ent_t, name_t = DolEntity.__table__, DolEntityName.__table__
    have_names = {(r["entity_id"], r["name"]): dict(r) for r in conn.execute(select(name_t)).mappings()}
    first = not have_ents and not have_names
    for r in have_ents.values():
        # built_at is not an input: it follows from whether anything else changed.
        del r["built_at"]
    # What goes is known from keys alone, so it is deleted before anything is written, as a whole-build diff would.
    name_del: list[dict[str, Any]] = []
    if have_names:  # a first build has nothing to delete: the set of every wanted name is not made
        wanted = {(ids[key], name[:300]) for key, acc in accs.items() for name, _src in _counts(acc.names)}
        name_del = [old for nk, old in have_names.items() if nk not in wanted]
        del wanted
    for old in name_del:
        del have_names[(old["entity_id"], old["name"])]
    ent_del = [old for key, old in have_ents.items() if key not in accs]

    # Which entities' yearly rows will change, before they do.
    key_match = "y.entity_id = n.entity_id AND y.fiscal_year = n.fiscal_year"
    levels = "CAST(y.perm_wage_levels AS TEXT)" if pg else "y.perm_wage_levels"
    differs = " OR ".join(
        (f"{levels} {distinct} n.{col}" if col == "perm_wage_levels" else f"y.{col} {distinct} n.{col}")
        for col in YEAR_COLS
    )
    gone_years = f"NOT EXISTS (SELECT 1 FROM {YEARS} n WHERE {key_match})"
    new_years = f"NOT EXISTS (SELECT 1 FROM dol_entity_years y WHERE {key_match})"
    year_changed: set[int] = set()
    if have_ents:  # else every entity is new and written whole: no other needs its time stamp moved
        year_changed = _ids(conn, f"SELECT DISTINCT y.entity_id FROM dol_entity_years y WHERE {gone_years}")
        year_changed |= _ids(conn, f"SELECT DISTINCT n.entity_id FROM {YEARS} n WHERE {new_years}")
        year_changed |= _ids(
            conn, f"SELECT DISTINCT n.entity_id FROM {YEARS} n JOIN dol_entity_years y ON {key_match} WHERE {differs}"
        )

    # Children first: a vanished entity's names, years and join rows go before it does, on every backend.
    delete_ids(conn, name_t, [r["id"] for r in name_del])
    conn.execute(
        text(
            f"DELETE FROM dol_entity_years WHERE NOT EXISTS (SELECT 1 FROM {YEARS} n WHERE "
            "n.entity_id = dol_entity_years.entity_id AND n.fiscal_year = dol_entity_years.fiscal_year)"
        )
    )
    gone = sorted(r["id"] for r in ent_del)
    match_t = EmployerMatch.__table__
    for i in range(0, len(gone), IN_CHUNK):
        conn.execute(match_t.delete().where(match_t.c.entity_id.in_(gone[i : i + IN_CHUNK])))
    delete_ids(conn, ent_t, gone)

    now = utcnow()
    # built_at moves only for an entity whose own row, names or yearly figures changed.
    children = {r["entity_id"] for r in name_del} | year_changed
    del name_del, ent_del
    keys = sorted(accs)
    slices = [keys[i : i + WRITE_CHUNK] for i in range(0, len(keys), WRITE_CHUNK)]
    del keys

    def prepare(keys: list[str]) -> _Slice:
        """A slice of entities' writes, worked out without the database."""
        want_ents, want_names = _slice_rows(keys, accs, ids, forms)
        ent_ins, ent_upd, _ = diff_rows(want_ents, {k: have_ents[k] for k in want_ents if k in have_ents})
        have_part = {nk: have_names.pop(nk) for nk in want_names if nk in have_names}
        name_ins, name_upd, _ = diff_rows(want_names, have_part)
        del want_ents, want_names, have_part
        new_ids = {r["id"] for r in ent_ins}
        changed = {r["entity_id"] for rows in (name_ins, name_upd) for r in rows} | children
        written = new_ids | {r["id"] for r in ent_upd}
        stamp_only = sorted(ids[k] for k in keys if ids[k] in changed and ids[k] not in written)
        for r in (*ent_ins, *ent_upd):
            r["built_at"] = now
        # Each name is normalised once here; keeping its forms would grow with every slice.
        clear_caches()
        return _Slice(
            max(new_ids, default=0),
            prepare_insert(conn, ent_t, ent_ins),
            ent_upd,
            stamp_only,
            prepare_insert(conn, name_t, name_ins),
            name_upd,
        )

    made: list[_Slice] = []
    if meanwhile is not None:
        with _alongside(meanwhile) as job:
            # Only so many slices ahead: what is made early is held until the database is free again.
            while len(made) < len(slices) and len(made) * WRITE_CHUNK < ROWS_AHEAD and not job.done():
                made.append(prepare(slices[len(made)]))
    made.reverse()
    new_max = 0
    # A first build writes into empty tables: their keys are built once, after the rows.
    with keys_built_after(conn, [ent_t, name_t, DolEntityYear.__table__]) if first else nullcontext():
        for keys in slices:
            part = made.pop() if made else prepare(keys)
            new_max = max(new_max, part.new_max)
            run_insert(conn, part.ent_ins)
            update_rows(conn, ent_t, part.ent_upd)
            update_rows(conn, ent_t, [{"id": i, "built_at": now} for i in part.stamp_only])
            run_insert(conn, part.name_ins)
            update_rows(conn, name_t, part.name_upd)

        levels_in = "CAST(n.perm_wage_levels AS JSON)" if pg else "n.perm_wage_levels"
        sets = ", ".join(f"{col} = {levels_in if col == 'perm_wage_levels' else 'n.' + col}" for col in YEAR_COLS)
        conn.execute(
            text(
                f"UPDATE dol_entity_years SET {sets} FROM {YEARS} n WHERE n.entity_id = dol_entity_years.entity_id "
                f"AND n.fiscal_year = dol_entity_years.fiscal_year AND ({differs.replace('y.', 'dol_entity_years.')})"
            )
        )
        ycols = ", ".join(YEAR_COLS)
        picks = ", ".join(levels_in if col == "perm_wage_levels" else f"n.{col}" for col in YEAR_COLS)
        conn.execute(
            text(
                f"INSERT INTO dol_entity_years (entity_id, fiscal_year, {ycols}) SELECT n.entity_id, n.fiscal_year, "
                f"{picks} FROM {YEARS} n WHERE {new_years} ORDER BY n.entity_id, n.fiscal_year"
            )
        )
    if pg and new_max:
        # Ids were assigned here, so move the sequence past them for any later plain insert.
        stmt = text("SELECT setval(pg_get_serial_sequence('dol_entities', 'id'), :n)")
        session.execute(stmt, {"n": new_max})
