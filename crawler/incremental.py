"""Known listing hashes: what a re-crawl needs to skip the detail request of a posting whose listing entry is
unchanged. Named by the JOBAGG_LISTING_HASHES setting, so spiders get them without opening the database."""

from __future__ import annotations

from sqlalchemy import select

from crawler import db as dbmod
from crawler.models import Posting


def listing_hashes(ats: str, token: str, db_url: str | None = None) -> dict[str, str]:
    """source_id -> listing hash of the board's open postings stored with one (in `postings.extra`)."""
    with dbmod.session_scope(db_url) as session:
        rows = session.execute(
            select(Posting.source_id, Posting.extra).where(
                Posting.ats == ats, Posting.board == token, Posting.closed_at.is_(None)
            )
        )
        return {
            sid: extra["listing_hash"] for sid, extra in rows if isinstance(extra, dict) and extra.get("listing_hash")
        }
