"""`jobagg dol download` against a local server: year ranges and kind lists, resume by HTTP Range, verification."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from matching.download import DownloadError, parse_kinds, parse_years
from tests.conftest import free_port
from tests.crawling import jobagg
from tests.matching.conftest import DOL, csv_to_xlsx


class Files(ThreadingHTTPServer):
    files: dict[str, bytes]
    ranges: list[str]
    gets: list[str]


class Handler(BaseHTTPRequestHandler):
    server: Files

    def do_GET(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        body = self.server.files.get(name)
        self.server.gets.append(name)
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng:
            self.server.ranges.append(rng)
            start = int(rng.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Files]:
    srv = Files(("127.0.0.1", free_port()), Handler)
    srv.files, srv.ranges, srv.gets = {}, [], []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def base(srv: Files) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}/files"


def workbook(tmp_path: Path, fixture: str) -> bytes:
    return csv_to_xlsx(DOL / fixture, tmp_path / f"{fixture}.xlsx").read_bytes()


def test_years_and_kinds_parse_ranges_and_lists() -> None:
    assert parse_years("2020-2022,2024") == [2020, 2021, 2022, 2024]
    assert parse_years("2025") == [2025]
    assert parse_kinds("perm, lca,perm") == ["perm", "lca"]
    for bad in ("2025-2020", "twenty", "1999"):
        with pytest.raises(DownloadError, match="--fy"):
            parse_years(bad)
    with pytest.raises(DownloadError, match="--kind"):
        parse_kinds("perm,h2b")


def test_range_of_years_and_kinds_in_one_call(server: Files, tmp_path: Path) -> None:
    server.files["PERM_Disclosure_Data_FY2021_Q4.xlsx"] = workbook(tmp_path, "perm_fy2022.csv")
    server.files["LCA_Disclosure_Data_FY2021_Q4.xlsx"] = workbook(tmp_path, "lca_fy2024_q4.csv")
    dest = tmp_path / "dl"
    out = jobagg(
        "dol", "download", "--kind", "perm,lca", "--fy", "2021-2022", "--base-url", base(server), "--dest", str(dest)
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert sorted(p.name for p in dest.iterdir()) == [
        "LCA_Disclosure_Data_FY2021_Q4.xlsx",
        "PERM_Disclosure_Data_FY2021_Q4.xlsx",
    ]
    assert "nothing published for perm FY2022, lca FY2022" in out.stdout
    # A second call finds the verified files and fetches nothing.
    server.gets.clear()
    again = jobagg("dol", "download", "--kind", "perm", "--fy", "2021", "--base-url", base(server), "--dest", str(dest))
    assert again.returncode == 0 and "already here" in again.stdout and server.gets == []


def test_interrupted_download_resumes_with_a_range_request(server: Files, tmp_path: Path) -> None:
    body = workbook(tmp_path, "perm_fy2022.csv")
    server.files["PERM_Disclosure_Data_FY2022_Q4.xlsx"] = body
    dest = tmp_path / "dl"
    dest.mkdir()
    (dest / "PERM_Disclosure_Data_FY2022_Q4.xlsx.part").write_bytes(body[:1000])
    out = jobagg("dol", "download", "--kind", "perm", "--fy", "2022", "--base-url", base(server), "--dest", str(dest))
    assert out.returncode == 0, out.stderr[-2000:]
    assert server.ranges == ["bytes=1000-"] and "resumed at 1,000" in out.stdout
    assert (dest / "PERM_Disclosure_Data_FY2022_Q4.xlsx").read_bytes() == body
    assert not (dest / "PERM_Disclosure_Data_FY2022_Q4.xlsx.part").exists()


def test_a_file_that_is_not_the_expected_table_is_refused(server: Files, tmp_path: Path) -> None:
    server.files["PERM_Disclosure_Data_FY2023_Q4.xlsx"] = b"<html><body>Access denied</body></html>"
    server.files["PERM_Disclosure_Data_FY2024_Q4.xlsx"] = workbook(tmp_path, "lca_fy2024_q4.csv")
    dest = tmp_path / "dl"
    for fy, why in (("2023", "does not open as a DOL/USCIS table"), ("2024", "expected a perm file")):
        out = jobagg("dol", "download", "--kind", "perm", "--fy", fy, "--base-url", base(server), "--dest", str(dest))
        assert out.returncode != 0
        assert why in out.stderr and f"PERM_Disclosure_Data_FY{fy}_Q4.xlsx" in out.stderr
    assert not dest.exists() or list(dest.iterdir()) == []
