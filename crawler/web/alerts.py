"""Saved searches: each new match is posted to the search's webhook once (retried on failure, never twice).

A posting matching when the search is saved is recorded as `baseline` and never sent; later matches become
`pending` rows (committed before any request), and only a 2xx answer marks them `delivered`. The unique
(search, posting) row is what makes "never twice" hold across runs; the request carries an Idempotency-Key
so a receiver can also drop a repeat after a crash between its answer and our commit.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler import db as dbmod
from crawler.models import AlertDelivery, SavedSearch, utcnow
from crawler.web.query import LISTING_COLUMNS, P, conditions, joined, parse_filters, row_dict

ATTEMPTS = 3
BATCH = 100
TIMEOUT = 10.0


def mask_url(url: str) -> str:
    """Enough of a webhook URL to recognise it, never the secret path or query."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return (
        f"{parts.scheme}://{host}{port}/…"
        if (parts.path not in ("", "/") or parts.query)
        else f"{parts.scheme}://{host}{port}/"
    )


def check_webhook(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook {mask_url(url)}: must be an http(s) URL with a host")


def _matching_ids(session: Session, filters: dict[str, Any]) -> list[int]:
    f = parse_filters(filters)
    return list(session.scalars(joined([P.c.id]).where(*conditions(f))))


def add_search(db_url: str, name: str, webhook: str, filters: dict[str, Any]) -> tuple[SavedSearch, int]:
    """Save a search; postings matching now are its baseline (not sent). Raises FilterError/ValueError."""
    check_webhook(webhook)
    parse_filters(filters)
    with dbmod.session_scope(db_url) as session:
        if session.scalar(select(SavedSearch.id).where(SavedSearch.name == name)) is not None:
            raise ValueError(f"a saved search named {name!r} already exists")
        search = SavedSearch(name=name, webhook_url=webhook, filters=filters)
        session.add(search)
        session.flush()
        ids = _matching_ids(session, filters)
        session.add_all(AlertDelivery(search_id=search.id, posting_id=pid, status="baseline") for pid in ids)
        return search, len(ids)


def list_searches(db_url: str) -> list[dict[str, Any]]:
    with dbmod.session_scope(db_url) as session:
        out = []
        for s in session.scalars(select(SavedSearch).order_by(SavedSearch.name)):
            counts: dict[str, int] = {}
            for status in session.scalars(select(AlertDelivery.status).where(AlertDelivery.search_id == s.id)):
                counts[status] = counts.get(status, 0) + 1
            out.append({"name": s.name, "webhook": mask_url(s.webhook_url), "filters": s.filters, "deliveries": counts})
        return out


def remove_search(db_url: str, name: str) -> bool:
    with dbmod.session_scope(db_url) as session:
        search = session.scalar(select(SavedSearch).where(SavedSearch.name == name))
        if search is None:
            return False
        session.delete(search)
        return True


Poster = Callable[[str, bytes, dict[str, str]], None]


def http_post(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST; any non-2xx answer or network failure raises an error whose text never contains the URL."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            if not 200 <= resp.status < 300:
                raise RuntimeError(f"HTTP {resp.status}")
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise RuntimeError(f"{type(exc).__name__}: {str(reason).replace(url, mask_url(url))}") from None


@dataclass
class DeliveryReport:
    search: str
    webhook: str
    new: int = 0
    delivered: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_new_matches(
    db_url: str, post: Poster = http_post, backoff: float = 1.0, attempts: int = ATTEMPTS
) -> list[DeliveryReport]:
    """Record each search's new matches as pending, then post every pending one; one report per search."""
    reports = []
    with dbmod.session_scope(db_url) as session:
        searches = [(s.id, s.name, s.webhook_url, s.filters) for s in session.scalars(select(SavedSearch))]
    for sid, name, url, filters in searches:
        report = DeliveryReport(name, mask_url(url))
        reports.append(report)
        # Pending rows are committed before any request: a crash mid-delivery resends nothing already marked.
        with dbmod.session_scope(db_url) as session:
            seen = set(session.scalars(select(AlertDelivery.posting_id).where(AlertDelivery.search_id == sid)))
            new = [pid for pid in _matching_ids(session, filters) if pid not in seen]
            session.add_all(AlertDelivery(search_id=sid, posting_id=pid, status="pending") for pid in new)
            report.new = len(new)
            session.get(SavedSearch, sid).last_checked_at = utcnow()  # type: ignore[union-attr]
        while True:
            with dbmod.session_scope(db_url) as session:
                pending = list(
                    session.scalars(
                        select(AlertDelivery)
                        .where(AlertDelivery.search_id == sid, AlertDelivery.status == "pending")
                        .order_by(AlertDelivery.posting_id)
                        .limit(BATCH)
                    )
                )
                if not pending:
                    break
                ids = [d.posting_id for d in pending]
                rows = session.execute(joined(LISTING_COLUMNS).where(P.c.id.in_(ids)).order_by(P.c.id)).all()
                body = json.dumps(
                    {"search": name, "filters": filters, "postings": [row_dict(r) for r in rows]}, ensure_ascii=False
                ).encode()
                key = hashlib.sha256(f"{sid}:{','.join(map(str, ids))}".encode()).hexdigest()
                error = _post_with_retries(post, url, body, key, backoff, attempts)
                now = utcnow()
                for d in pending:
                    d.attempts += 1
                    if error is None:
                        d.status, d.delivered_at, d.last_error = "delivered", now, None
                    else:
                        d.last_error = error[:300]
            if error is not None:
                report.failed += len(pending)
                report.errors.append(error)
                break  # stays pending: the next run retries
            report.delivered += len(pending)
    return reports


def _post_with_retries(post: Poster, url: str, body: bytes, key: str, backoff: float, attempts: int) -> str | None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": key, "User-Agent": "jobagg-alerts"}
    error = None
    for attempt in range(attempts):
        try:
            post(url, body, headers)
            return None
        except Exception as exc:  # any failure is retried, then recorded; the URL never appears in it
            error = str(exc).replace(url, mask_url(url))
            if attempt + 1 < attempts:
                time.sleep(backoff * 2**attempt)
    return error
