"""Recruitee companies (`<company>.recruitee.com`): the whole board in one JSON response.

The worked example of docs/adding-a-spider.md, kept as a real file that tests/test_adding_a_spider.py crawls
against the local server. To add the platform for real, copy it to `spiders/recruitee.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from spiders.base import AtsSpider, BoardRef


class RecruiteeSpider(AtsSpider):
    """Recruitee boards (`<company>.recruitee.com`), read from the public offers API."""

    name = "recruitee"
    api_origin = "https://{company}.recruitee.com"
    board_format = r"[a-z0-9][a-z0-9-]*"
    board_format_help = "the company subdomain, e.g. `acme` (from acme.recruitee.com)"

    def real_origin(self, board: BoardRef) -> str:
        # One host per company, so the origin depends on the board (as for Workday tenants).
        return f"https://{board.token}.recruitee.com"

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        yield self.list_request(board, "/api/offers/", self.parse_board)

    def parse_board(self, response: Response, board: BoardRef) -> Iterator[Any]:
        # listing(): JSON -> the `offers` list -> dead or ok -> offers without an id skipped -> ids recorded
        # (so vanished postings close) -> the role filter. What is left is particular to Recruitee.
        for source_id, offer in self.listing(response, board, "offers") or ():
            yield self.posting(
                board,
                offer,
                source_id=source_id,
                url=offer.get("careers_url"),
                title=offer.get("title"),
                department=offer.get("department"),
                locations=[offer["location"]] if offer.get("location") else [],
                remote="remote" if offer.get("remote") is True else None,
                posted_at_raw=offer.get("created_at"),
                description_raw=offer.get("description"),
            )
