"""Fetch DOL PERM/LCA disclosure workbooks and USCIS hub exports by their published file names."""

from __future__ import annotations

import urllib.error
import urllib.request
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    resumed_from: int = 0  # bytes already on disk from an interrupted download
    cached: bool = False  # already downloaded and verified earlier: not fetched again


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


def parse_years(spec: str) -> list[int]:
    """'2020-2025', '2021,2023' or a mix ('2016,2020-2022') -> sorted fiscal years."""
    years: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise DownloadError(f"--fy {spec!r}: expected years like 2024, 2020-2025 or 2021,2023") from None
        if first > last or not 2000 <= first <= 2100 or not 2000 <= last <= 2100:
            raise DownloadError(f"--fy {spec!r}: {part} is not a range of fiscal years")
        years.update(range(first, last + 1))
    if not years:
        raise DownloadError(f"--fy {spec!r}: no fiscal year given")
    return sorted(years)


def parse_kinds(spec: str) -> list[str]:
    kinds = [k.strip().lower() for k in spec.split(",") if k.strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise DownloadError(f"--kind {spec!r}: use perm, lca, uscis or a list of them (perm,lca)")
    return list(dict.fromkeys(kinds))


KINDS = ("perm", "lca", "uscis")


def verify(path: Path, kind: str, url: str) -> None:
    """A download is kept only if it opens and its header is a layout of the kind asked for."""
    from matching.layouts import detect_layout
    from matching.readers import IngestError, read_header

    try:
        header = read_header(path)
        layout = detect_layout(header, str(path))
    except (IngestError, OSError, ValueError) as exc:
        raise DownloadError(f"{url}: the file does not open as a DOL/USCIS table: {exc}") from exc
    if layout.kind != kind:
        raise DownloadError(f"{url}: expected a {kind} file, got a {layout.name} header")


def _open(url: str, start: int) -> Any:
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
    if start:
        headers["Range"] = f"bytes={start}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60)


def _fetch(url: str, dest: Path, kind: str, progress: Progress | None) -> Fetched | None:
    """Fetch `url` to `dest`; an interrupted download resumes from its .part file with an HTTP Range request."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    try:
        resp = _open(url, start)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start:
            # The part already holds every byte the server has: verify it as it is.
            resp = None
        elif exc.code == 404:
            return None
        else:
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(f"{url}: {exc.reason}") from exc
    resumed = 0
    if resp is not None:
        if start and resp.status != 206:
            start = 0  # the server ignored the range: start over
        resumed = start
        length = int(resp.headers.get("Content-Length") or 0)
        total = start + length if length else None
        task = progress.add_task(dest.name, total=total, completed=start) if progress else None
        with resp, part.open("ab" if start else "wb") as out:
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                if progress is not None and task is not None:
                    progress.update(task, advance=len(chunk))
    try:
        verify(part, kind, url)
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    # Renamed only when complete and verified, so an interrupted download never looks like a real file.
    part.replace(dest)
    return Fetched(url, dest, dest.stat().st_size, resumed)


def download(
    kind: str,
    fy: int,
    quarter: int | None = None,
    base_url: str | None = None,
    dest: Path = Path("."),
    progress: bool | Progress | None = True,
) -> list[Fetched]:
    """Download the files for one kind and fiscal year; raises DownloadError when nothing was published."""
    base = (base_url or (USCIS_BASE if kind == "uscis" else DOL_BASE)).rstrip("/")
    groups = candidate_names(kind, fy, quarter)
    fetched: list[Fetched] = []
    tried: list[str] = []
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    own = not isinstance(progress, Progress)
    prog = Progress(*columns, disable=not progress) if own else progress
    with prog if own else nullcontext():
        for names in groups:
            for name in names:
                url = f"{base}/{name}"
                tried.append(name)
                target = Path(dest) / name
                if target.exists() and not target.with_name(name + ".part").exists():
                    # Downloaded and verified before: the rename happens only after verification.
                    fetched.append(Fetched(url, target, target.stat().st_size, 0, cached=True))
                    break
                got = _fetch(url, target, kind, prog)
                if got:
                    fetched.append(got)
                    break
    if not fetched:
        raise DownloadError(f"nothing published for {kind} FY{fy} at {base}; tried: {', '.join(tried)}")
    return fetched
