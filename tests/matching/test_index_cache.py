"""The local cache of a PostgreSQL database's match index: same answers as the row, the fingerprint decides,
a damaged or stale file is never trusted, concurrent writers leave one whole file."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from crawler import db as dbmod
from crawler.models import DolEntityName, DolMatchIndex
from matching.ingest import ingest_paths
from matching.join import EntityIndex
from matching.matchindex import CACHE_MAGIC, _read_cache, _write_cache, cache_dir, load_index, read_current
from tests.conftest import _truncate_all, pg_schema
from tests.crawling import REPO, jobagg
from tests.matching.conftest import DOL

QUERIES = ("Nimbus Robotics", "Nimbus Robotics Corp", "Nobody Here At All")


@pytest.fixture
def pg(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The session's PostgreSQL schema with the LCA fixture loaded, its index built, and a cache of its own."""
    monkeypatch.setenv("JOBAGG_CACHE_DIR", str(tmp_path / "cache"))
    ingest_paths(pg_url, [DOL / "lca_fy2024_q4.csv"], progress=False)
    with dbmod.session_scope(pg_url) as s:
        load_index(s, rebuild=True)
    yield pg_url
    _truncate_all(dbmod.get_engine(pg_url))


def cache_files() -> list[Path]:
    base = cache_dir()
    assert base is not None
    return sorted((base / "match-index").glob("*.match-index"))


def answers(index: EntityIndex | None) -> list[dict[str, object]]:
    assert index is not None
    return [index.match(q).as_json() for q in QUERIES]


def from_the_row(url: str, monkeypatch: pytest.MonkeyPatch) -> EntityIndex | None:
    with monkeypatch.context() as m:
        m.setenv("JOBAGG_CACHE_DIR", "off")
        return read_current(url)


def drop_the_row(url: str) -> None:
    with dbmod.session_scope(url) as s:
        s.execute(delete(DolMatchIndex))


def test_a_warm_cache_answers_as_the_database_row_does(pg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    [path] = cache_files()  # the build saved the row and a copy
    assert path.read_bytes().startswith(CACHE_MAGIC)
    expected = answers(from_the_row(pg, monkeypatch))
    assert expected[0]["outcome"] == "matched"
    assert answers(read_current(pg)) == expected
    # The copy answers on its own: without the row only the cache can have served it.
    drop_the_row(pg)
    assert from_the_row(pg, monkeypatch) is None
    assert answers(read_current(pg)) == expected
    with dbmod.session_scope(pg) as s:
        index, rebuilt = load_index(s)
    assert not rebuilt and answers(index) == expected
    out = jobagg("--db", pg, "employers", "match", "--json", *QUERIES)
    assert out.returncode == 0, out.stderr[-2000:]
    assert '"outcome": "matched"' in out.stdout and '"outcome": "none"' in out.stdout


def test_a_warm_look_up_asks_the_server_through_libpq_without_importing_psycopg(pg: str) -> None:
    probe = (
        "import sys; from matching.matchindex import read_current; index = read_current(sys.argv[1]);"
        "print(index.match('Nimbus Robotics').outcome if index else None, 'psycopg' in sys.modules)"
    )

    def look_up() -> list[str]:
        out = subprocess.run([sys.executable, "-c", probe, pg], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.split()

    assert look_up() == ["matched", "False"]
    # Stale: the fingerprint the server computes no longer matches the copy; psycopg takes over (no current row).
    with dbmod.session_scope(pg) as s:
        s.execute(update(DolEntityName).where(DolEntityName.name == "NIMBUS ROBOTICS CORPORATION").values(filings=3))
    assert look_up() == ["None", "True"]


def test_the_cache_is_filled_from_the_row_and_kept_per_schema(pg: str) -> None:
    [path] = cache_files()
    path.unlink()
    expected = answers(read_current(pg))  # from the row, which it copies
    assert cache_files() == [path]
    drop_the_row(pg)
    assert answers(read_current(pg)) == expected
    # Another schema of the same database has a file of its own.
    with pg_schema("jobagg_cache") as other:
        ingest_paths(other, [DOL / "lca_fy2018.csv"], progress=False)
        with dbmod.session_scope(other) as s:
            theirs, _ = load_index(s)
        assert len(cache_files()) == 2 and path in cache_files()
        assert answers(read_current(other)) == answers(theirs) != expected
    assert answers(read_current(pg)) == expected


def test_an_entity_change_makes_the_cached_copy_stale(pg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    [path] = cache_files()
    before = path.read_bytes()
    with dbmod.session_scope(pg) as s:
        s.execute(update(DolEntityName).where(DolEntityName.name == "NIMBUS ROBOTICS CORPORATION").values(filings=41))
    assert read_current(pg) is None  # the copy's fingerprint is no longer the tables'
    with dbmod.session_scope(pg) as s:
        fresh, rebuilt = load_index(s)
        built = EntityIndex.from_session(s)
    assert rebuilt and path.read_bytes() != before
    drop_the_row(pg)
    cached = read_current(pg)
    assert cached is not None and cached.filings == built.filings == fresh.filings
    assert answers(cached) == answers(built)


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "not an index", "empty"])
def test_a_damaged_cache_file_is_ignored_and_replaced(pg: str, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    [path] = cache_files()
    good = path.read_bytes()
    expected = answers(from_the_row(pg, monkeypatch))
    bad = {
        "flipped byte": good[: len(good) // 2] + bytes([good[len(good) // 2] ^ 0x20]) + good[len(good) // 2 + 1 :],
        "truncated": good[: len(good) - 100],
        "not an index": good[: good.index(b"\n", len(CACHE_MAGIC)) + 1] + b"0 0\n",
        "empty": b"",
    }[damage]
    path.write_bytes(bad)
    assert answers(read_current(pg)) == expected  # from the row
    assert path.read_bytes() == good  # and the copy written again
    # Never trusted: with the row gone, a damaged copy gives no index at all, and the usual path rebuilds.
    path.write_bytes(bad)
    drop_the_row(pg)
    assert read_current(pg) is None
    with dbmod.session_scope(pg) as s:
        index, rebuilt = load_index(s)
    assert rebuilt and answers(index) == expected


def test_a_cache_file_others_could_write_is_not_loaded(pg: str, monkeypatch: pytest.MonkeyPatch) -> None:
    [path] = cache_files()
    expected = answers(from_the_row(pg, monkeypatch))
    drop_the_row(pg)
    assert answers(read_current(pg)) == expected  # the copy, while it is the user's alone
    path.chmod(0o666)  # unpickling runs code: a file someone else could have written is never loaded
    assert read_current(pg) is None
    path.chmod(0o600)
    assert answers(read_current(pg)) == expected


def test_no_cache_when_turned_off(pg: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for path in cache_files():
        path.unlink()
    monkeypatch.setenv("JOBAGG_CACHE_DIR", "off")
    assert cache_dir() is None
    out = jobagg("--db", pg, "employers", "match", "--json", "--rebuild-index", *QUERIES)
    assert out.returncode == 0, out.stderr[-2000:]
    assert read_current(pg) is not None
    monkeypatch.setenv("JOBAGG_CACHE_DIR", str(tmp_path / "cache"))
    assert cache_files() == []


def test_where_the_cache_lives(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JOBAGG_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "jobagg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "jobagg"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # not a valid XDG value: ignored
    assert cache_dir() == tmp_path / "home" / ".cache" / "jobagg"
    monkeypatch.setenv("JOBAGG_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("JOBAGG_CACHE_DIR", "OFF")
    assert cache_dir() is None


WRITER = """
import pickle, sys
from pathlib import Path
from matching.matchindex import _write_cache
path, fp, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
blob = pickle.dumps({"fp": fp, "payload": fp * 200_000})
for _ in range(n):
    _write_cache(path, fp, blob)
"""


def test_two_processes_writing_at_once_leave_one_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "x.match-index"
    writers = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(WRITER), str(path), fp, "30"], cwd=REPO)
        for fp in ("a" * 64, "b" * 64)
    ]
    while any(w.poll() is None for w in writers):
        for fp in ("a" * 64, "b" * 64):
            got = _read_cache(path, fp)
            # Whenever a reader finds a file, it is whole and of the fingerprint it names, never a mix.
            assert got is None or got == {"fp": fp, "payload": fp * 200_000}
    assert [w.wait() for w in writers] == [0, 0]
    assert sum(_read_cache(path, fp) is not None for fp in ("a" * 64, "b" * 64)) == 1
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    _write_cache(blocked / "match-index" / "x.match-index", "f" * 64, pickle.dumps(1))  # no error
    assert _read_cache(blocked / "match-index" / "x.match-index", "f" * 64) is None


def test_a_rebuild_outside_an_ingest_reads_the_names_as_the_current_code_does(db_url: str) -> None:
    ingest_paths(db_url, [DOL / "lca_fy2024_q4.csv"], progress=False)
    with dbmod.session_scope(db_url) as s:
        assert load_index(s, rebuild=True)[0].match("Nimbus Robotics").matches
        # Normal forms as some other version of the normalisation stored them.
        s.execute(update(DolEntityName).values(clean="X", core_key="X", legal_key="X", tokens="X"))
    with dbmod.session_scope(db_url) as s:
        assert not load_index(s, rebuild=True, keys_fresh=True)[0].match("Nimbus Robotics").matches
        assert load_index(s, rebuild=True)[0].match("Nimbus Robotics").matches
