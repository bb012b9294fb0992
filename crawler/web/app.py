"""The read API, the web pages and the Atom feed: one read-only FastAPI app over the database contract."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import nh3
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine, func, select, text

from crawler import db as dbmod
from crawler.models import Board, CrawlRun, DolCase, DolEntity, Employer, EmployerMatch, Posting, PostingSponsorship
from crawler.web import charts, labels
from crawler.web.query import (
    FILTER_SPECS,
    LISTING_COLUMNS,
    MAX_LIMIT,
    ORDER,
    FilterError,
    Filters,
    P,
    conditions,
    count_query,
    encode_cursor,
    joined,
    parse_filters,
    row_dict,
    run_listing,
)

HERE = Path(__file__).parent
PAGE_EXTRA = ("limit", "cursor")
# Nothing inline, nothing from elsewhere: styles come from our own stylesheet, the chart is inline SVG markup.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
DETAIL_FIELDS = (
    "ats",
    "board",
    "source_id",
    "url",
    "apply_url",
    "title",
    "employer_name",
    "employer_id",
    "department",
    "requisition_id",
    "locations",
    "city",
    "region",
    "country",
    "remote",
    "employment_type",
    "posted_at",
    "salary_min",
    "salary_max",
    "salary_currency",
    "salary_period",
    "salary_raw",
    "description_text",
    "description_html",
    "is_ml",
    "role_family",
    "seniority",
    "degree_min",
    "eb_category_hint",
    "years_experience_min",
    "sponsorship_statement",
    "sponsorship_sentence",
    "first_seen_at",
    "last_seen_at",
    "changed_at",
    "closed_at",
)


EVIDENCE_DEFAULTS: dict[str, Any] = {
    "employer": {"outcome": "none"},
    "window": None,
    "as_of": None,
    "data": {},
    "posting": {},
    "by_fiscal_year": {},
}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def http_url(url: str | None) -> str:
    """Only http(s) links leave the page: a crawled 'javascript:' or 'data:' URL becomes a dead '#'."""
    return url if url and url.lower().startswith(("https://", "http://")) else "#"


def _param_error(name: str, message: str) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={"detail": [{"loc": ["query", name], "msg": message, "type": "value_error"}]},
    )


def _openapi_params(extra: bool = True) -> list[dict[str, Any]]:
    """The filter parameters as OpenAPI describes them (validation itself is parse_filters)."""
    out = []
    for name, (kind, doc) in FILTER_SPECS.items():
        if isinstance(kind, tuple):
            schema: dict[str, Any] = {"type": "string", "enum": list(kind)}
        else:
            schema = {
                "int": {"type": "integer"},
                "float": {"type": "number"},
                "bool": {"type": "boolean"},
                "date": {"type": "string", "format": "date"},
                "country": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
            }.get(kind, {"type": "string", "maxLength": 200})
        out.append({"name": name, "in": "query", "required": False, "description": doc, "schema": schema})
    if extra:
        out.append(
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Rows per page (1-{MAX_LIMIT}, default 50).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50},
            }
        )
        out.append(
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "next_cursor of the previous page.",
                "schema": {"type": "string"},
            }
        )
    return out


def _limit(raw: str | None, default: int = 50) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise FilterError("limit", f"{raw!r} is not an integer") from None
    if not 1 <= value <= MAX_LIMIT:
        raise FilterError("limit", f"must be between 1 and {MAX_LIMIT}")
    return value


def _posting_detail(engine: Engine, posting_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(select(*[P.c[n] for n in DETAIL_FIELDS]).where(P.c.id == posting_id)).first()
        if row is None:
            return None
        out = {"id": posting_id, **{k: _plain(v) for k, v in row._mapping.items()}}
        emp = None
        if row.employer_id is not None:
            emp = conn.execute(select(Employer.name).where(Employer.id == row.employer_id)).scalar()
        out["employer"] = emp or row.employer_name
        tags = conn.execute(
            select(
                PostingSponsorship.visa,
                PostingSponsorship.tag,
                PostingSponsorship.reason,
                PostingSponsorship.evidence,
                PostingSponsorship.computed_at,
            ).where(PostingSponsorship.posting_id == posting_id)
        ).all()
    out["sponsorship"] = {
        t.visa: {"tag": t.tag, "reason": t.reason, "computed_at": _plain(t.computed_at), "evidence": t.evidence}
        for t in sorted(tags, key=lambda t: t.visa)
    }
    return out


def _employer_detail(engine: Engine, employer_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        emp = conn.execute(select(Employer.id, Employer.name).where(Employer.id == employer_id)).first()
        if emp is None:
            return None
        boards = conn.execute(
            select(Board.ats, Board.token, Board.last_status, Board.open_postings)
            .where(Board.employer_id == employer_id)
            .order_by(Board.ats, Board.token)
        ).all()
        matches = conn.execute(
            select(
                DolEntity.id,
                DolEntity.name,
                DolEntity.fein,
                DolEntity.is_staffing,
                EmployerMatch.role,
                EmployerMatch.method,
                EmployerMatch.score,
                EmployerMatch.outcome,
            )
            .join(DolEntity, DolEntity.id == EmployerMatch.entity_id)
            .where(EmployerMatch.employer_id == employer_id)
            .order_by(EmployerMatch.role, EmployerMatch.score.desc(), DolEntity.id)
        ).all()
        # The employer_filings view is the contract; the API serves exactly its rows.
        filings = conn.execute(
            text("SELECT * FROM employer_filings WHERE employer_id = :eid ORDER BY fiscal_year, dol_entity_id"),
            {"eid": employer_id},
        ).all()
        open_count = conn.scalar(
            select(func.count())
            .select_from(Posting)
            .where(Posting.employer_id == employer_id, Posting.closed_at.is_(None))
        )
    years: dict[int, dict[str, Any]] = {}
    for f in filings:
        row = dict(f._mapping)
        fy = row["fiscal_year"]
        agg = years.setdefault(fy, {"fiscal_year": fy, "filers": []})
        agg["filers"].append(
            {
                k: (json.loads(v) if k == "perm_wage_levels" and v else v)
                for k, v in row.items()
                if k not in ("employer_id", "employer", "fiscal_year")
            }
        )
    totals = []
    for fy in sorted(years):
        filers = years[fy]["filers"]
        levels: dict[str, int] = {}
        for f in filers:
            for lvl, n in (f.get("perm_wage_levels") or {}).items():
                levels[lvl] = levels.get(lvl, 0) + n
        totals.append(
            {
                "fiscal_year": fy,
                "perm_certified": sum(f["perm_certified"] + f["perm_certified_expired"] for f in filers),
                "perm_denied": sum(f["perm_denied"] for f in filers),
                "perm_withdrawn": sum(f["perm_withdrawn"] for f in filers),
                "perm_ml_certified": sum(f["perm_ml_certified"] for f in filers),
                "lca_certified": sum(f["lca_certified"] for f in filers),
                "lca_denied": sum(f["lca_denied"] for f in filers),
                "lca_ml_certified": sum(f["lca_ml_certified"] for f in filers),
                "uscis_approvals": sum(
                    (f["uscis_initial_approval"] or 0) + (f["uscis_continuing_approval"] or 0) for f in filers
                ),
                "perm_wage_levels": dict(sorted(levels.items())),
                "filers": filers,
            }
        )
    return {
        "id": emp.id,
        "name": emp.name,
        "open_postings": open_count,
        "boards": [dict(b._mapping) for b in boards],
        "dol_matches": [
            {
                "dol_entity_id": m.id,
                "name": m.name,
                "fein": m.fein,
                "staffing_firm": bool(m.is_staffing),
                "role": m.role,
                "method": m.method,
                "score": m.score,
                "outcome": m.outcome,
            }
            for m in matches
        ],
        "filings_by_fiscal_year": totals,
    }


def _stats(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        open_n = conn.scalar(select(func.count()).select_from(Posting).where(Posting.closed_at.is_(None)))
        open_ml = conn.scalar(
            select(func.count()).select_from(Posting).where(Posting.closed_at.is_(None), Posting.is_ml.is_(True))
        )
        tags = conn.execute(
            select(PostingSponsorship.visa, PostingSponsorship.tag, func.count())
            .join(Posting, Posting.id == PostingSponsorship.posting_id)
            .where(Posting.closed_at.is_(None))
            .group_by(PostingSponsorship.visa, PostingSponsorship.tag)
        ).all()
        employers = conn.scalar(select(func.count()).select_from(Employer))
        boards = conn.scalar(select(func.count()).select_from(Board))
        last_crawl = conn.scalar(select(func.max(CrawlRun.finished_at)))
        fys = conn.execute(
            select(DolCase.kind, func.min(DolCase.fiscal_year), func.max(DolCase.fiscal_year), func.count()).group_by(
                DolCase.kind
            )
        ).all()
    by_tag: dict[str, dict[str, int]] = {"green_card": {}, "h1b": {}}
    for visa, tag, n in tags:
        by_tag.setdefault(visa, {})[tag] = n
    return {
        "open_postings": open_n,
        "open_ml_postings": open_ml,
        "tags": by_tag,
        "employers": employers,
        "boards": boards,
        "last_crawl_finished_at": _plain(last_crawl),
        "dol_cases": {k: {"fiscal_years": [lo, hi], "cases": n} for k, lo, hi, n in fys},
    }


class SecurityHeaders:
    """Adds the CSP and friends to every response (plain ASGI: no per-request task as in BaseHTTPMiddleware)."""

    HEADERS = [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db_url: str | None = None) -> FastAPI:
    engine = dbmod.get_engine(db_url)
    app = FastAPI(
        title="jobagg",
        summary="ML job postings with visa and green-card sponsorship tags (read-only).",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    env.globals.update(labels=labels)
    env.filters["http_url"] = http_url
    stylesheet = (HERE / "static" / "style.css").read_bytes()

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(FilterError)
    async def bad_filter(_request: Request, exc: FilterError) -> JSONResponse:
        return _param_error(exc.name, exc.message)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": jsonable_errors(exc)})

    def page(template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(template).render(**ctx), status_code=status)

    # --- JSON API ------------------------------------------------------------------------------------------

    @app.get("/postings", openapi_extra={"parameters": _openapi_params()}, tags=["api"])
    def postings(request: Request) -> Response:
        """Open postings matching the filters, newest posted first (undated last), then by id; keyset pages."""
        params = request.query_params
        f = parse_filters(params, allowed_extra=PAGE_EXTRA)
        limit = _limit(params.get("limit"))
        with engine.connect() as conn:
            rows = run_listing(conn, f, limit, params.get("cursor") or None)
        items = rows[:limit]
        nxt = encode_cursor(items[-1]["posted_at"], items[-1]["posting_id"]) if len(rows) > limit else None
        body = {"items": items, "next_cursor": nxt, "filters": f.params()}
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")

    @app.get("/postings/{posting_id}", tags=["api"])
    def posting(posting_id: int) -> Response:
        """One posting with every stored field and both tags with their full evidence."""
        detail = _posting_detail(engine, posting_id)
        if detail is None:
            raise HTTPException(404, f"no posting {posting_id}")
        return JSONResponse(detail)

    @app.get("/employers/{employer_id}", tags=["api"])
    def employer(employer_id: int) -> Response:
        """An employer, the DOL filers it joined to, and their filings by fiscal year."""
        detail = _employer_detail(engine, employer_id)
        if detail is None:
            raise HTTPException(404, f"no employer {employer_id}")
        return JSONResponse(detail)

    @app.get("/stats", tags=["api"])
    def stats() -> Response:
        """Counts: open postings, tags by visa and level, employers, boards, DOL data loaded."""
        return JSONResponse(_stats(engine))

    # --- Atom feed -----------------------------------------------------------------------------------------

    @app.get(
        "/feeds/postings.atom",
        openapi_extra={"parameters": _openapi_params(extra=False)},
        response_class=Response,
        tags=["feeds"],
    )
    def feed(request: Request) -> Response:
        """The newest 50 open postings matching the filters, as an Atom feed."""
        f = parse_filters(request.query_params)
        cols = [*LISTING_COLUMNS, P.c.first_seen_at, P.c.changed_at]
        with engine.connect() as conn:
            rows = conn.execute(joined(cols).where(*conditions(f)).order_by(*ORDER).limit(50)).all()
        xml = atom_feed(f, rows, str(request.base_url).rstrip("/"), str(request.url))
        return Response(xml, media_type="application/atom+xml; charset=utf-8")

    # --- web pages -----------------------------------------------------------------------------------------

    @app.get("/static/style.css", include_in_schema=False)
    def style() -> Response:
        return Response(stylesheet, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def listing_page(request: Request) -> HTMLResponse:
        params = request.query_params
        try:
            f = parse_filters(params, allowed_extra=PAGE_EXTRA)
            limit = _limit(params.get("limit"))
            with engine.connect() as conn:
                rows = run_listing(conn, f, limit, params.get("cursor") or None)
                total = conn.scalar(count_query(f)) or 0
        except FilterError as exc:
            return page("error.html", 422, title="Bad filter", message=str(exc), filters=Filters())
        items = rows[:limit]
        nxt = None
        if len(rows) > limit:
            nxt = {**f.params(), "cursor": encode_cursor(items[-1]["posted_at"], items[-1]["posting_id"])}
        return page(
            "listing.html",
            filters=f,
            items=items,
            total=total,
            heading=labels.heading(f),
            next_params=nxt,
            paged=bool(params.get("cursor")),
            feed_params=f.params(),
        )

    @app.get("/jobs/{posting_id}", response_class=HTMLResponse, include_in_schema=False)
    def posting_page(posting_id: int) -> HTMLResponse:
        detail = _posting_detail(engine, posting_id)
        if detail is None:
            return page("error.html", 404, title="Not found", message=f"No posting {posting_id}.", filters=Filters())
        ad_html = nh3.clean(detail["description_html"]) if detail.get("description_html") else None
        for tag in detail["sponsorship"].values():
            # Evidence written by an older scorer may lack keys: the page shows dashes rather than failing.
            tag["evidence"] = {**EVIDENCE_DEFAULTS, **(tag["evidence"] or {})}
        return page("posting.html", p=detail, ad_html=ad_html, filters=Filters())

    @app.get("/companies/{employer_id}", response_class=HTMLResponse, include_in_schema=False)
    def employer_page(employer_id: int) -> HTMLResponse:
        detail = _employer_detail(engine, employer_id)
        if detail is None:
            return page("error.html", 404, title="Not found", message=f"No employer {employer_id}.", filters=Filters())
        f = Filters(employer_id=employer_id)
        with engine.connect() as conn:
            rows = run_listing(conn, f, 50)
        return page(
            "employer.html",
            e=detail,
            filings_chart=charts.filings_chart(detail["filings_by_fiscal_year"]),
            levels_chart=charts.wage_levels_chart(detail["filings_by_fiscal_year"]),
            items=rows[:50],
            filters=Filters(),
        )

    return app


def jsonable_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]


ATOM = "http://www.w3.org/2005/Atom"


def atom_feed(f: Filters, rows: list[Any], base: str, self_url: str) -> bytes:
    """Atom 1.0 (RFC 4287): one entry per posting, linking to its page here; ids stable across runs."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"jobagg: {labels.heading(f)}"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = "urn:jobagg:feed:" + "&".join(
        f"{k}={v}" for k, v in sorted(f.params().items())
    )
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self_url)
    latest = max((r.changed_at for r in rows if r.changed_at), default=datetime.now(UTC))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _atom_time(latest)
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "jobagg"
    for r in rows:
        item = row_dict(r)
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:jobagg:posting:{item['posting_id']}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{item['title']} - {item['employer'] or '?'}"
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/jobs/{item['posting_id']}")
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _atom_time(r.changed_at or r.first_seen_at)
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _atom_time(r.first_seen_at)
        summary = " · ".join(
            x
            for x in (
                labels.place(item),
                labels.salary(item),
                f"Green card: {item['green_card_tag']} ({item['green_card_reason']})" if item["green_card_tag"] else "",
                f"H-1B: {item['h1b_tag']} ({item['h1b_reason']})" if item["h1b_tag"] else "",
            )
            if x
        )
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = summary
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8")


def _atom_time(value: datetime | None) -> str:
    value = value or datetime.now(UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["create_app"]
