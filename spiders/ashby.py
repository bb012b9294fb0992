"""Ashby job boards: the whole board in one response, with unlisted postings to skip and structured pay."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from spiders.base import AtsSpider, BoardRef

WORKPLACE = {"onsite": "onsite", "remote": "remote", "hybrid": "hybrid"}
EMPLOYMENT = {
    "fulltime": "full_time",
    "parttime": "part_time",
    "intern": "intern",
    "contract": "contract",
    "temporary": "temporary",
}
# Compensation intervals look like "1 YEAR", "1 HOUR"; equity comes as "NONE".
_INTERVAL = re.compile(r"^\s*1\s+(YEAR|MONTH|WEEK|DAY|HOUR)\s*$", re.I)


def salary_component(compensation: dict[str, Any] | None) -> dict[str, Any] | None:
    """The base-salary component with a number in it, from the summary or else the first tier."""
    if not compensation:
        return None
    components = list(compensation.get("summaryComponents") or [])
    for tier in compensation.get("compensationTiers") or []:
        components.extend((tier or {}).get("components") or [])
    for component in components:
        if not isinstance(component, dict) or component.get("compensationType") != "Salary":
            continue
        if component.get("minValue") is not None or component.get("maxValue") is not None:
            return component
    return None


def interval_period(interval: Any) -> str | None:
    m = _INTERVAL.match(str(interval or ""))
    return m.group(1).lower() if m else None


class AshbySpider(AtsSpider):
    """Ashby boards (`jobs.ashbyhq.com/<org>`), read from the public posting API with compensation."""

    name = "ashby"
    api_origin = "https://api.ashbyhq.com"
    # The job-board name is the last segment of jobs.ashbyhq.com/<name>; some organisations' names have
    # single spaces ("Flock Safety", shown as Flock%20Safety in the URL). The token is the decoded name.
    board_format = r"[A-Za-z0-9][A-Za-z0-9_.-]*(?: [A-Za-z0-9_.-]+)*"
    board_format_help = (
        "the job-board name from jobs.ashbyhq.com/<name>, e.g. `cursor` or `Flock Safety` (write %20 as a space)"
    )

    def board_requests(self, board: BoardRef) -> Iterable[scrapy.Request]:
        org = quote(board.token, safe="")  # percent-encoded as the platform's own links do
        yield self.list_request(board, f"/posting-api/job-board/{org}?includeCompensation=true", self.parse_board)

    def parse_board(self, response: Response, board: BoardRef) -> Iterator[Any]:
        # Unlisted postings are drafts or internal; they are not on the public board.
        listing = self.listing(response, board, "jobs", public=lambda job: job.get("isListed") is not False)
        for source_id, job in listing or ():
            yield self.job_item(board, source_id, job)

    def job_item(self, board: BoardRef, source_id: str, job: dict[str, Any]) -> Any:
        locations = [job.get("location")]
        locations += [s.get("location") for s in job.get("secondaryLocations") or [] if isinstance(s, dict)]
        workplace = job.get("workplaceType")
        # Older boards omit workplaceType; isRemote is then the only remote signal.
        remote = WORKPLACE.get(str(workplace or "").lower()) or ("remote" if job.get("isRemote") is True else None)
        compensation = job.get("compensation") or {}
        salary = salary_component(compensation) or {}
        extra = {
            "team": job.get("team"),
            "workplace_type": workplace,
            "is_remote": job.get("isRemote"),
            "postal_address": (job.get("address") or {}).get("postalAddress") or None,
        }
        return self.posting(
            board,
            job,
            source_id=source_id,
            url=job.get("jobUrl"),
            apply_url=job.get("applyUrl"),
            title=job.get("title"),
            department=job.get("department"),
            locations=[loc for loc in dict.fromkeys(locations) if loc],
            remote=remote,
            remote_raw=workplace or ("Remote" if job.get("isRemote") else None),
            employment_type=EMPLOYMENT.get(str(job.get("employmentType") or "").lower()),
            employment_type_raw=job.get("employmentType"),
            posted_at_raw=job.get("publishedAt"),
            updated_at_raw=job.get("updatedAt"),
            salary_min=salary.get("minValue"),
            salary_max=salary.get("maxValue"),
            salary_currency=salary.get("currencyCode"),
            salary_period=interval_period(salary.get("interval")),
            salary_raw=compensation.get("compensationTierSummary")
            or compensation.get("scrapeableCompensationSalarySummary"),
            description_raw=job.get("descriptionHtml"),
            description_text=None if job.get("descriptionHtml") else job.get("descriptionPlain"),
            extra={k: v for k, v in extra.items() if v is not None} or None,
        )
