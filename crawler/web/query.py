"""One definition of the listing filters and their SQL, shared by the API, the web page, feeds, exports and alerts.

The listing reads the same join the `open_postings` view is made of (posting, employer, both tags), written with
SQLAlchemy Core so exports can also reach closed postings; a test checks both give the same rows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Connection, Select, and_, bindparam, func, literal, or_, select
from sqlalchemy.sql import Alias, visitors

from crawler.items import REMOTE_MODES, ROLE_FAMILIES, SENIORITIES
from crawler.models import Employer, Posting, PostingSponsorship

VISAS = ("green_card", "h1b")
TAGS = ("likely", "possible", "unlikely", "unknown")
# A visa asked for without a tag level means "this employer may well sponsor it".
DEFAULT_TAGS = ("likely", "possible")
REMOTE = REMOTE_MODES
MAX_LIMIT = 200

# name -> (choices or a type name, description); the API, the CLI and saved searches are generated from this.
FILTER_SPECS: dict[str, tuple[tuple[str, ...] | str, str]] = {
    "visa": (VISAS, "Visa kind the tag is for: green_card (PERM) or h1b (LCA, USCIS)."),
    "tag": (TAGS, "Tag level; with visa, that visa's tag, else either visa's. visa alone means likely or possible."),
    "role": (ROLE_FAMILIES, "Role family read from the title."),
    "seniority": (SENIORITIES, "Seniority read from the title."),
    "remote": (REMOTE, "Remote, hybrid or onsite."),
    "country": ("country", "ISO 3166 alpha-2 country code of the primary place (US, GB, ...)."),
    "region": ("text", "Region / state of the primary place, as normalised (e.g. CA, California)."),
    "city": ("text", "City of the primary place (case-insensitive)."),
    "place": ("text", "City, region or country code (case-insensitive): one box for a place."),
    "employer": ("text", "Employer name contains this (case-insensitive)."),
    "employer_id": ("int", "Employer id (employers.id)."),
    "ml": ("bool", "true: ML roles only; false: other roles only."),
    "posted_since": ("date", "Posted on or after this ISO date (YYYY-MM-DD)."),
    "salary_at_least": ("float", "Top of the advertised pay range is at least this amount (any currency/period)."),
    "q": ("text", "Words in the title, employer or department (case-insensitive)."),
}


class FilterError(ValueError):
    """A bad filter value; `name` is the parameter at fault."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@dataclass(frozen=True)
class Filters:
    visa: str | None = None
    tag: str | None = None
    role: str | None = None
    seniority: str | None = None
    remote: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    place: str | None = None
    employer: str | None = None
    employer_id: int | None = None
    ml: bool | None = None
    posted_since: date | None = None
    salary_at_least: float | None = None
    q: str | None = None

    def params(self) -> dict[str, str]:
        """The filters as query parameters (strings), skipping unset ones: a shareable URL's query."""
        out: dict[str, str] = {}
        for name, value in asdict(self).items():
            if value is None:
                continue
            if isinstance(value, bool):
                out[name] = "true" if value else "false"
            elif isinstance(value, date):
                out[name] = value.isoformat()
            elif isinstance(value, float) and value.is_integer():
                out[name] = str(int(value))
            else:
                out[name] = str(value)
        return out


FILTER_NAMES = tuple(f.name for f in fields(Filters))


def parse_value(name: str, raw: str) -> Any:
    """Parse and validate one filter value given as text; raises FilterError naming the parameter."""
    kind, _ = FILTER_SPECS[name]
    raw = raw.strip()
    if raw == "":
        return None
    if isinstance(kind, tuple):
        if raw not in kind:
            raise FilterError(name, f"{raw!r} is not one of {', '.join(kind)}")
        return raw
    if kind == "country":
        if len(raw) != 2 or not raw.isalpha():
            raise FilterError(name, f"{raw!r} is not a two-letter ISO country code")
        return raw.upper()
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise FilterError(name, f"{raw!r} is not an integer") from None
    if kind == "float":
        try:
            value = float(raw)
        except ValueError:
            raise FilterError(name, f"{raw!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise FilterError(name, f"{raw!r} is not a finite number")
        return value
    if kind == "bool":
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise FilterError(name, f"{raw!r} is not true or false")
    if kind == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise FilterError(name, f"{raw!r} is not an ISO date (YYYY-MM-DD)") from None
    if len(raw) > 200:
        raise FilterError(name, "longer than 200 characters")
    return raw


def parse_filters(params: Mapping[str, Any], allowed_extra: tuple[str, ...] = ()) -> Filters:
    """Filters from query parameters / stored saved-search JSON; an unknown name is an error, not ignored."""
    values: dict[str, Any] = {}
    for name, raw in params.items():
        if name in allowed_extra:
            continue
        if name not in FILTER_SPECS:
            raise FilterError(name, f"unknown parameter (known: {', '.join(FILTER_NAMES)})")
        if raw is None:
            continue
        values[name] = parse_value(name, str(raw))
    return Filters(**values)


# --- SQL -------------------------------------------------------------------------------------------------------

P = Posting.__table__
E = Employer.__table__
GC: Alias = PostingSponsorship.__table__.alias("gc")
H1B: Alias = PostingSponsorship.__table__.alias("h1b")
TAG_ALIAS = {"green_card": GC, "h1b": H1B}


# The open_postings view's columns, in its order, over the tables.
LISTING_COLUMNS: list[ColumnElement[Any]] = [
    P.c.id.label("posting_id"),
    P.c.url,
    P.c.apply_url,
    P.c.title,
    P.c.employer_id,
    func.coalesce(E.c.name, P.c.employer_name).label("employer"),
    P.c.department,
    P.c.city,
    P.c.region,
    P.c.country,
    P.c.remote,
    P.c.employment_type,
    P.c.posted_at,
    P.c.salary_min,
    P.c.salary_max,
    P.c.salary_currency,
    P.c.salary_period,
    P.c.is_ml,
    P.c.role_family,
    P.c.seniority,
    P.c.degree_min,
    P.c.eb_category_hint,
    P.c.years_experience_min,
    P.c.sponsorship_statement,
    P.c.sponsorship_sentence,
    GC.c.tag.label("green_card_tag"),
    GC.c.reason.label("green_card_reason"),
    H1B.c.tag.label("h1b_tag"),
    H1B.c.reason.label("h1b_reason"),
    P.c.ats,
    P.c.board,
    P.c.source_id,
]


def joined(columns: list[Any]) -> Select[Any]:
    """SELECT columns FROM postings with the employer and both tags joined (each tag row may be missing)."""
    src = (
        P.outerjoin(E, E.c.id == P.c.employer_id)
        .outerjoin(GC, and_(GC.c.posting_id == P.c.id, GC.c.visa == literal("green_card")))
        .outerjoin(H1B, and_(H1B.c.posting_id == P.c.id, H1B.c.visa == literal("h1b")))
    )
    return select(*columns).select_from(src)


def _b(name: str, value: Any) -> Any:
    # Every value is a named bind parameter, so one compiled statement serves every request of the same shape.
    return bindparam(f"f_{name}", value)


def conditions(f: Filters, include_closed: bool = False) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if not include_closed:
        conds.append(P.c.closed_at.is_(None))
    if f.visa:
        tag_col = TAG_ALIAS[f.visa].c.tag
        conds.append(tag_col == _b("tag", f.tag) if f.tag else tag_col.in_(DEFAULT_TAGS))
    elif f.tag:
        conds.append(or_(GC.c.tag == _b("tag", f.tag), H1B.c.tag == _b("tag", f.tag)))
    for name, col in (("role", P.c.role_family), ("seniority", P.c.seniority), ("remote", P.c.remote)):
        value = getattr(f, name)
        if value:
            conds.append(col == _b(name, value))
    if f.country:
        conds.append(P.c.country == _b("country", f.country))
    if f.region:
        conds.append(func.lower(P.c.region) == _b("region", f.region.lower()))
    if f.city:
        conds.append(func.lower(P.c.city) == _b("city", f.city.lower()))
    if f.place:
        low = _b("place", f.place.lower())
        conds.append(or_(func.lower(P.c.city) == low, func.lower(P.c.region) == low, func.lower(P.c.country) == low))
    if f.employer:
        pattern = _b("employer", f"%{_escape_like(f.employer)}%")
        conds.append(func.coalesce(E.c.name, P.c.employer_name).ilike(pattern, escape="\\"))
    if f.employer_id is not None:
        conds.append(P.c.employer_id == _b("employer_id", f.employer_id))
    if f.ml is not None:
        conds.append(P.c.is_ml.is_(f.ml))
    if f.posted_since:
        conds.append(P.c.posted_at >= _b("posted_since", f.posted_since))
    if f.salary_at_least is not None:
        conds.append(func.coalesce(P.c.salary_max, P.c.salary_min) >= _b("salary_at_least", f.salary_at_least))
    if f.q:
        for i, word in enumerate(f.q.split()[:8]):
            pattern = _b(f"q{i}", f"%{_escape_like(word)}%")
            conds.append(
                or_(
                    P.c.title.ilike(pattern, escape="\\"),
                    func.coalesce(E.c.name, P.c.employer_name).ilike(pattern, escape="\\"),
                    P.c.department.ilike(pattern, escape="\\"),
                )
            )
    return conds


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- keyset pagination: newest posted first (undated last), then highest id -------------------------------------


def encode_cursor(posted_at: date | str | None, posting_id: int) -> str:
    day = posted_at.isoformat() if isinstance(posted_at, date) else posted_at
    raw = json.dumps([day, posting_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[date | None, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        day, pid = json.loads(raw)
        if not isinstance(pid, int) or isinstance(pid, bool):
            raise ValueError
        return (date.fromisoformat(day) if day is not None else None), pid
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise FilterError("cursor", "not a cursor this API returned") from None


def after_cursor(cursor: tuple[date | None, int]) -> ColumnElement[bool]:
    day, pid = cursor
    if day is None:
        return and_(P.c.posted_at.is_(None), P.c.id < _b("cursor_id", pid))
    day_param = _b("cursor_day", day)
    return or_(
        P.c.posted_at < day_param,
        and_(P.c.posted_at == day_param, P.c.id < _b("cursor_id", pid)),
        P.c.posted_at.is_(None),
    )


ORDER = (P.c.posted_at.desc().nulls_last(), P.c.id.desc())


def listing_query(f: Filters, limit: int, cursor: str | None = None) -> Select[Any]:
    """One page of open postings (limit + 1 rows, so the caller knows whether there is a next page)."""
    conds = conditions(f)
    if cursor:
        conds.append(after_cursor(decode_cursor(cursor)))
    return joined(LISTING_COLUMNS).where(*conds).order_by(*ORDER).limit(_b("limit", limit + 1))


def _bind_values(stmt: Any) -> dict[str, Any]:
    return {b.key: b.value for b in visitors.iterate(stmt) if isinstance(b, BindParameter) and b.key.startswith("f_")}


_compiled: dict[tuple[Any, ...], Any] = {}


def bind_values(f: Filters, cursor: tuple[date | None, int] | None = None) -> dict[str, Any]:
    """The named values conditions() + after_cursor() bind, computed without building any SQL expression."""
    v: dict[str, Any] = {}
    if f.tag:
        v["f_tag"] = f.tag
    for name in ("role", "seniority", "remote", "country", "employer_id", "posted_since", "salary_at_least"):
        value = getattr(f, name)
        if value is not None and value != "":
            v[f"f_{name}"] = value
    for name in ("region", "city", "place"):
        value = getattr(f, name)
        if value:
            v[f"f_{name}"] = value.lower()
    if f.employer:
        v["f_employer"] = f"%{_escape_like(f.employer)}%"
    if f.q:
        for i, word in enumerate(f.q.split()[:8]):
            v[f"f_q{i}"] = f"%{_escape_like(word)}%"
    if cursor is not None:
        day, pid = cursor
        v["f_cursor_id"] = pid
        if day is not None:
            v["f_cursor_day"] = day
    return v


_compiled: dict[tuple[Any, ...], Any] = {}


def run_listing(conn: Connection, f: Filters, limit: int, cursor: str | None = None) -> list[dict[str, Any]]:
    """listing_query's rows as row_dict()s, from a statement compiled once per dialect and filter shape.

    Building and compiling the SELECT costs more than running it on an indexed table; the shape (which filters
    are set, the visa, the ML flag, the cursor kind) fixes the SQL text, so only the values change per request.
    """
    position = decode_cursor(cursor) if cursor else None
    values = bind_values(f, position)
    values["f_limit"] = limit + 1
    dialect = conn.dialect
    key = (dialect.name, f.visa, f.tag is None, f.ml, frozenset(values))
    compiled = _compiled.get(key)
    if compiled is None:
        stmt = listing_query(f, limit, cursor)
        expected = {k for k in _bind_values(stmt)}
        if expected != set(values):  # bind_values must mirror conditions(); a mismatch is a bug, caught here
            raise AssertionError(f"listing binds {sorted(expected)} != {sorted(values)}")
        compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        if len(_compiled) > 512:  # shapes are few; a bound keeps a hostile client from growing it
            _compiled.clear()
        _compiled[key] = compiled
    params = {**compiled.params, **values}
    if compiled.positiontup is not None:
        # qmark drivers (sqlite3): values in order, dates as the ISO text SQLite stores.
        args: Any = tuple(
            v.isoformat() if isinstance(v, date) else v for v in (params[name] for name in compiled.positiontup)
        )
    else:
        args = params
    cur = conn.exec_driver_sql(compiled.string, args).cursor
    assert cur is not None
    names = [d[0] for d in cur.description]
    out = []
    for raw in cur.fetchall():
        row = dict(zip(names, raw, strict=True))
        day = row["posted_at"]
        if isinstance(day, date):
            row["posted_at"] = day.isoformat()
        if row["is_ml"] is not None:
            row["is_ml"] = int(bool(row["is_ml"]))
        out.append(row)
    return out


def count_query(f: Filters) -> Select[Any]:
    return joined([func.count()]).where(*conditions(f))


def row_dict(row: Any) -> dict[str, Any]:
    """A listing row as JSON-ready values with the view's types (ISO dates, 0/1 booleans)."""
    out = dict(row._mapping)
    if isinstance(out.get("posted_at"), date):
        out["posted_at"] = out["posted_at"].isoformat()
    if out.get("is_ml") is not None:
        out["is_ml"] = int(bool(out["is_ml"]))
    return out
