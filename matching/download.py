"""Fetch DOL PERM/LCA disclosure workbooks and USCIS hub exports by their published file names."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

DOL_BASE = "https://www.dol.gov/sites/dolgov/files/ETA/oflc/pdfs"
USCIS_BASE = "https://www.uscis.gov/sites/default/files/document/data"
# dol.gov has refused Python's default agent (403) while serving browsers; identify as a browser plus us.
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 jobagg/0.1"
)
CHUNK = 1 << 16


class DownloadError(Exception):
    pass


@dataclass
class Fetched:
    url: str
    path: Path
    size: int


def candidate_names(kind: str, fy: int, quarter: int | None) -> list[list[str]]:
    """Groups of file names to try; the first name of a group that exists is fetched, for every group."""
    quarters = [quarter] if quarter else [4, 3, 2, 1]
    if kind == "perm":
        old_form = "PERM_Disclosure_Data_FY{fy}_Q{q}.xlsx"
        new_form = "PERM_Disclosure_Data_New_Form_FY{fy}_Q{q}.xlsx"

        def names(form: str) -> list[str]:
            # Quarters are cumulative: the latest one holds the whole year so far.
            out = [form.format(fy=fy, q=q) for q in quarters]
            return out + ([form.replace("_Q{q}", "").format(fy=fy)] if not quarter else [])

        if fy == 2024:
            # FY2024 published both forms, each with different cases: fetch both.
            return [names(new_form), names(old_form)]
        if fy >= 2025:
            return [names(new_form) + names(old_form)]
        return [names(old_form)]
    if kind == "lca":
        groups = []
        for q in quarters:
            groups.append(
                [f"LCA_Disclosure_Data_FY{fy}_Q{q}.xlsx", f"LCA_Dislclosure_Data_FY{fy}_Q{q}.xlsx"]
                + ([f"H-1B_Disclosure_Data_FY{fy}_Q{q}.xlsx"] if fy < 2020 else [])
            )
        if not quarter and fy < 2020:
            groups.append([f"H-1B_Disclosure_Data_FY{fy}.xlsx", f"H-1B_Disclosure_Data_FY{str(fy)[2:]}.xlsx"])
        return groups
    if kind == "uscis":
        return [[f"h1b_datahubexport-{fy}.csv"]]
    raise DownloadError(f"unknown kind {kind!r}: use perm, lca or uscis")


def _fetch(url: str, dest: Path, progress: Progress | None) -> Fetched | None:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        resp = urllib.request.urlopen(req, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: {exc.reason}") from exc
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    total = int(resp.headers.get("Content-Length") or 0) or None
    task = progress.add_task(dest.name, total=total) if progress else None
    size = 0
    with resp, part.open("wb") as out:
        while chunk := resp.read(CHUNK):
            out.write(chunk)
            size += len(chunk)
            if progress is not None and task is not None:
                progress.update(task, advance=len(chunk))
    # Rename only when complete, so an interrupted download never looks like a real file.
    part.replace(dest)
    return Fetched(url, dest, size)


def download(
    kind: str,
    fy: int,
    quarter: int | None = None,
    base_url: str | None = None,
    dest: Path = Path("."),
    progress: bool = True,
) -> list[Fetched]:
    """Download the files for one kind and fiscal year; raises DownloadError when nothing was published."""
    base = (base_url or (USCIS_BASE if kind == "uscis" else DOL_BASE)).rstrip("/")
    groups = candidate_names(kind, fy, quarter)
    fetched: list[Fetched] = []
    tried: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, disable=not progress) as prog:
        for names in groups:
            for name in names:
                url = f"{base}/{name}"
                tried.append(name)
                got = _fetch(url, Path(dest) / name, prog)
                if got:
                    fetched.append(got)
                    break
    if not fetched:
        raise DownloadError(f"nothing published for {kind} FY{fy} at {base}; tried: {', '.join(tried)}")
    return fetched
