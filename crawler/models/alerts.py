"""Saved searches and the webhook deliveries of their new matches (each posting delivered once per search)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crawler.models.base import Base, utcnow


class SavedSearch(Base):
    """A named filter (the API's query parameters) whose new matches are posted to a webhook."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # A secret (the URL is the credential): shown masked, never in full.
    webhook_url: Mapped[str] = mapped_column(String(2000))
    # Query parameter name -> value, exactly as /postings takes them.
    filters: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_checked_at: Mapped[datetime | None]


class AlertDelivery(Base):
    """One posting matched by one saved search: `baseline` (already matching when saved), `pending`, `delivered`."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (UniqueConstraint("search_id", "posting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    search_id: Mapped[int] = mapped_column(ForeignKey("saved_searches.id", ondelete="CASCADE"))
    posting_id: Mapped[int] = mapped_column(ForeignKey("postings.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
