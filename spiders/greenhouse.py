"""Greenhouse job boards: the whole board, descriptions included, in one JSON response."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import AtsSpider, BoardRef

# Greenhouse puts several places in one free-text location; `;` and `|` always separate places.
_PLACE_SEPARATORS = re.compile(r"\s*[;|]\s*")


def split_places(text: str | None) -> list[str]:
    return [p for p in _PLACE_SEPARATORS.split(text or "") if p]


class GreenhouseSpider(AtsSpider):
    name = "greenhouse"
    api_origin = "https://boards-api.greenhouse.io"
    api_origin_eu = "https://boards-api.eu.greenhouse.io"
    board_format = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
    board_format_help = "the board slug, e.g. `anthropic` (from job-boards.greenhouse.io/<slug>)"

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        yield self.list_request(board, f"/v1/boards/{board.token}/jobs?content=true", self.parse_board)

    def parse_board(self, response: Response, board: BoardRef) -> Iterator[Any]:
        for source_id, job in self.listing(response, board, "jobs") or ():
            yield self.job_item(board, source_id, job)

    def job_item(self, board: BoardRef, source_id: str, job: dict[str, Any]) -> Any:
        offices = [o.get("name") or "" for o in job.get("offices") or [] if isinstance(o, dict)]
        remote_words = [name for name in offices if re.search(r"\b(remote|hybrid)\b", name, re.I)]
        return self.posting(
            board,
            job,
            source_id=source_id,
            url=job.get("absolute_url"),
            title=job.get("title"),
            employer_name=job.get("company_name"),
            department=", ".join(d["name"] for d in job.get("departments") or [] if d.get("name")) or None,
            requisition_id=job.get("requisition_id"),
            locations=split_places((job.get("location") or {}).get("name")),
            remote_raw=", ".join(remote_words) or None,
            posted_at_raw=job.get("first_published") or job.get("updated_at"),
            updated_at_raw=job.get("updated_at"),
            description_raw=job.get("content"),
        )
