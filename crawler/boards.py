"""What a crawl is told about a board, and the shape of the callable that tells it.

Spiders learn their boards from the callable named by the `JOBAGG_BOARD_SOURCE` setting (loaded with
`scrapy.utils.misc.load_object`), so they never import the registry or open a database session themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BoardRef:
    """A board to crawl: its token, the employer to show, the platform region (`eu` or None), and its public
    career-page URL (the registry's `board_url`; the jsonld spider starts there)."""

    token: str
    employer: str | None = None
    region: str | None = None
    url: str | None = None


# board_source(platform, token or None, settings) -> the boards to crawl: with a token, that board (known
# details filled in); without, every active board of the platform.
BoardSource = Callable[[str, str | None, Any], list[BoardRef]]
