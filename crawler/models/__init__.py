"""The database schema: the contract front ends read. Import models from here."""

from crawler.models.alerts import AlertDelivery, SavedSearch
from crawler.models.base import Base, utcnow
from crawler.models.dol import (
    DolCase,
    DolEntity,
    DolEntityName,
    DolEntityYear,
    DolFile,
    DolMatchIndex,
    EmployerMatch,
    EmployerOverride,
    PostingSponsorship,
    UscisEmployerYear,
)
from crawler.models.postings import Board, CrawlRun, Employer, Posting, get_or_create_board, get_or_create_employer

__all__ = [
    "AlertDelivery",
    "Base",
    "Board",
    "CrawlRun",
    "DolCase",
    "DolEntity",
    "DolEntityName",
    "DolEntityYear",
    "DolFile",
    "DolMatchIndex",
    "Employer",
    "EmployerMatch",
    "EmployerOverride",
    "Posting",
    "PostingSponsorship",
    "SavedSearch",
    "UscisEmployerYear",
    "get_or_create_board",
    "get_or_create_employer",
    "utcnow",
]
