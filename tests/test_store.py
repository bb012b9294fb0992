"""Storage: batched upsert, re-crawls, closing vanished postings - on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from crawler import db as dbmod
from crawler.extensions import CrawlRunRecorder
from crawler.models import Board, CrawlRun, Employer, Posting, utcnow
from crawler.offline.server import serve
from pipelines.normalize import normalize
from pipelines.store import PostingWriter, content_hash, row_from_item
from tests.crawling import ATS_FIXTURES, scrapy_crawl


def _item(source_id: str, title: str = "Machine Learning Engineer", **extra: object) -> dict:
    raw = {
        "ats": "greenhouse", "board": "acme", "source_id": source_id, "title": title, "employer_name": "Acme",
        "url": f"https://example.com/jobs/{source_id}", "locations": ["Austin, TX"],
        "posted_at_raw": "2026-10-01T09:00:00Z", **extra,
    }  # fmt: skip
    fields, _ = normalize(raw)
    return row_from_item(fields)


def _postings(engine) -> list[Posting]:  # type: ignore[no-untyped-def]
    with dbmod.session_scope(engine) as session:
        return list(session.scalars(select(Posting).order_by(Posting.source_id)))


def test_upsert_inserts_then_updates_without_duplicates(engine) -> None:  # type: ignore[no-untyped-def]
    writer = PostingWriter(engine)
    writer.write([_item("1"), _item("2")])
    first = {p.source_id: p for p in _postings(engine)}
    assert set(first) == {"1", "2"}
    assert first["1"].posted_at.isoformat() == "2026-10-01"
    assert first["1"].employer_id is not None and first["1"].board_id is not None

    writer.write([_item("1"), _item("2", title="Senior Machine Learning Engineer")])
    second = {p.source_id: p for p in _postings(engine)}
    assert len(second) == 2
    # Unchanged posting: only last-seen moves.
    assert second["1"].first_seen_at == first["1"].first_seen_at
    assert second["1"].changed_at == first["1"].changed_at
    assert second["1"].last_seen_at > first["1"].last_seen_at
    assert second["1"].content_hash == first["1"].content_hash
    # Changed posting: new title, new hash, changed_at moves, first_seen stays.
    assert second["2"].title == "Senior Machine Learning Engineer"
    assert second["2"].content_hash != first["2"].content_hash
    assert second["2"].changed_at > first["2"].changed_at
    assert second["2"].first_seen_at == first["2"].first_seen_at
    with dbmod.session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Employer)) == 1
        assert session.scalar(select(func.count()).select_from(Board)) == 1


def test_seen_again_reopens_a_closed_posting(engine) -> None:  # type: ignore[no-untyped-def]
    writer = PostingWriter(engine)
    writer.write([_item("1")])
    with dbmod.session_scope(engine) as session:
        closed = CrawlRunRecorder._close_vanished(session, "greenhouse", "acme", set(), utcnow())
    assert closed == 1
    assert _postings(engine)[0].closed_at is not None
    writer.write([_item("1")])
    assert _postings(engine)[0].closed_at is None


def test_close_vanished_only_touches_that_board(engine) -> None:  # type: ignore[no-untyped-def]
    writer = PostingWriter(engine)
    other = _item("9")
    other["board"] = "other"
    writer.write([_item("1"), _item("2"), other])
    with dbmod.session_scope(engine) as session:
        n = CrawlRunRecorder._close_vanished(session, "greenhouse", "acme", {"1"}, utcnow())
    assert n == 1
    state = {(p.board, p.source_id): p.closed_at is not None for p in _postings(engine)}
    assert state == {("acme", "1"): False, ("acme", "2"): True, ("other", "9"): False}


def test_a_failed_batch_leaves_stored_rows_intact(engine) -> None:  # type: ignore[no-untyped-def]
    writer = PostingWriter(engine)
    writer.write([_item("1")])
    bad = _item("2")
    bad["source_id"] = None  # violates NOT NULL: the whole batch must roll back
    try:
        writer.write([_item("1", title="Changed title"), bad])
    except Exception:
        writer.forget_cache()
    rows = _postings(engine)
    assert [(p.source_id, p.title) for p in rows] == [("1", "Machine Learning Engineer")]


def test_content_hash_ignores_derived_fields() -> None:
    a = _item("1")
    b = dict(a, is_ml=not a["is_ml"], seniority="staff")
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(dict(a, description_text="new text"))


def test_session_fixture_rolls_back(session: Session) -> None:
    session.add(Employer(name="Rolled Back Inc"))
    session.flush()
    assert session.scalar(select(func.count()).select_from(Employer).where(Employer.name == "Rolled Back Inc")) == 1


def test_recrawl_updates_and_closes_end_to_end(db_url: str, tmp_path: Path) -> None:
    """Crawl a board, change it (one posting edited, one removed, one added), crawl again."""
    root = tmp_path / "corpus"
    shutil.copytree(ATS_FIXTURES, root)
    board_file = root / "greenhouse" / "lumenlabs.json"
    with serve(root) as server:
        args = ("-a", "board=lumenlabs", "-a", f"api_base={server.base_url}", "-a", "roles=all")
        first = scrapy_crawl("greenhouse", tmp_path, db_url, *args)
        assert first.returncode == 0, first.log[-2000:]
        engine = dbmod.get_engine(db_url)
        before = {p.source_id: p for p in _postings(engine)}
        assert set(before) == {"4410001", "4410002", "4410003", "4410006"}

        data = json.loads(board_file.read_text())
        jobs = [j for j in data["jobs"] if j.get("id") != 4410002]  # removed from the board
        for job in jobs:
            if job.get("id") == 4410003:
                job["title"] = "Staff Research Scientist"
        jobs.append({**jobs[0], "id": 4410099, "title": "Applied Scientist", "absolute_url": "https://x.example/99"})
        board_file.write_text(json.dumps({"jobs": jobs, "meta": {"total": len(jobs)}}))
        second = scrapy_crawl("greenhouse", tmp_path, db_url, *args)
        assert second.returncode == 0, second.log[-2000:]

    after = {p.source_id: p for p in _postings(engine)}
    assert set(after) == {"4410001", "4410002", "4410003", "4410006", "4410099"}
    assert after["4410002"].closed_at is not None
    assert after["4410003"].title == "Staff Research Scientist" and after["4410003"].closed_at is None
    assert after["4410001"].changed_at == before["4410001"].changed_at
    assert after["4410001"].last_seen_at > before["4410001"].last_seen_at
    with dbmod.session_scope(engine) as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert [r.status for r in runs] == ["finished", "finished"]
        assert runs[1].closed_count == 1 and runs[1].item_count == 4
        assert runs[1].boards["lumenlabs"]["status"] == "ok"
        board = session.scalar(select(Board).where(Board.token == "lumenlabs"))
        assert board.last_status == "ok" and board.open_postings == 4


def test_failed_listing_closes_nothing(db_url: str, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(ATS_FIXTURES, root)
    with serve(root) as server:
        args = ("-a", "board=lumenlabs", "-a", f"api_base={server.base_url}", "-a", "roles=all")
        assert scrapy_crawl("greenhouse", tmp_path, db_url, *args).returncode == 0
        (root / "greenhouse" / "lumenlabs.json").write_text("{not json")
        out = scrapy_crawl("greenhouse", tmp_path, db_url, *args)
    assert out.returncode == 0
    engine = dbmod.get_engine(db_url)
    assert all(p.closed_at is None for p in _postings(engine))
    with dbmod.session_scope(engine) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert run.status == "failed" and run.boards["lumenlabs"]["status"] == "error"
        assert "invalid JSON" in run.boards["lumenlabs"]["reason"]


def test_unchanged_recrawl_reuses_stored_reading_and_exports_the_same_items(db_url: str, tmp_path: Path) -> None:
    with serve(ATS_FIXTURES) as server:
        args = ("-a", "board=lumenlabs", "-a", f"api_base={server.base_url}", "-a", "roles=all")
        first = scrapy_crawl("greenhouse", tmp_path, db_url, *args)
        second = scrapy_crawl("greenhouse", tmp_path, db_url, *args)
    assert first.returncode == 0 and second.returncode == 0, second.log[-2000:]
    assert second.items == first.items  # every exported field, derived ones included
    assert "raw_hash" not in second.items[0] and "unchanged_id" not in second.items[0]
    engine = dbmod.get_engine(db_url)
    with dbmod.session_scope(engine) as session:
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id)).all()
    assert runs[0].stats.get("jobagg/reuse/unchanged") is None
    assert runs[1].stats["jobagg/reuse/unchanged"] == len(first.items) == 4
    assert runs[1].stats["jobagg/store/unchanged"] == 4
    # The board's stored rows were loaded once, while its listing downloaded, not after its items arrived.
    assert runs[1].stats["jobagg/reuse/board_loads"] == runs[1].stats["jobagg/reuse/prefetched"] == 1
    assert all(p.last_run_id == runs[1].id and p.raw_hash for p in _postings(engine))


def test_a_new_read_version_reads_everything_again(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pipelines
    from pipelines.reuse import raw_hash

    fields = {"ats": "greenhouse", "board": "b", "source_id": "1", "title": "ML Engineer"}
    before = raw_hash(fields)
    assert raw_hash(dict(fields, raw_hash="x", unchanged_id=3)) == before  # bookkeeping is not content
    monkeypatch.setattr(pipelines, "READ_VERSION", "test-next")
    monkeypatch.setattr("pipelines.reuse.READ_VERSION", "test-next")
    assert raw_hash(fields) != before


def test_the_raw_hash_tells_apart_values_moved_between_fields_and_a_list_from_its_json_text() -> None:
    from pipelines.reuse import raw_hash

    base = {"ats": "greenhouse", "board": "b", "source_id": "1"}
    assert raw_hash({**base, "title": "ab", "department": "c"}) != raw_hash({**base, "title": "a", "department": "bc"})
    assert raw_hash({**base, "locations": ["Paris"]}) != raw_hash({**base, "locations": '["Paris"]'})
    assert raw_hash({**base, "title": "T", "extra": {"a": 1, "b": 2}}) == raw_hash({**base, "extra": {"b": 2, "a": 1},
                                                                                   "title": "T"})  # fmt: skip


def test_an_ml_only_crawl_does_not_close_listed_postings_it_skipped(db_url: str, tmp_path: Path) -> None:
    with serve(ATS_FIXTURES) as server:
        base = ("-a", "board=lumenlabs", "-a", f"api_base={server.base_url}")
        assert scrapy_crawl("greenhouse", tmp_path, db_url, *base, "-a", "roles=all").returncode == 0
        ml_only = scrapy_crawl("greenhouse", tmp_path, db_url, *base)
    assert ml_only.returncode == 0 and len(ml_only.items) == 3
    engine = dbmod.get_engine(db_url)
    assert all(p.closed_at is None for p in _postings(engine))  # the sales posting is still listed
    with dbmod.session_scope(engine) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
    assert run.boards["lumenlabs"] == {"status": "ok", "reason": None, "listed": 4, "skipped_by_role": 1, "closed": 0}


_REFUSED_TITLE = "Staff Research Scientist"
_TRIGGER_SQL = {
    "sqlite": [
        f"CREATE TRIGGER jobagg_test_refuse_{op} BEFORE {op} ON postings WHEN NEW.title = '{_REFUSED_TITLE}' "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
        for op in ("INSERT", "UPDATE")
    ],
    "postgresql": [
        "CREATE FUNCTION jobagg_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.title = '{_REFUSED_TITLE}' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER jobagg_test_refuse BEFORE INSERT OR UPDATE ON postings "
        "FOR EACH ROW EXECUTE FUNCTION jobagg_test_refuse()",
    ],
}
_DROP_TRIGGER_SQL = {
    "sqlite": ["DROP TRIGGER jobagg_test_refuse_INSERT", "DROP TRIGGER jobagg_test_refuse_UPDATE"],
    "postgresql": ["DROP TRIGGER jobagg_test_refuse ON postings", "DROP FUNCTION jobagg_test_refuse()"],
}


@pytest.mark.parametrize("in_thread", [True, False], ids=["worker-thread", "reactor-thread"])
def test_a_failed_batch_fails_the_run_and_closes_nothing(db_url: str, tmp_path: Path, in_thread: bool) -> None:
    """The database refuses the re-crawl's batch: nothing of it is written, nothing is closed, the run fails."""
    root = tmp_path / "corpus"
    shutil.copytree(ATS_FIXTURES, root)
    board_file = root / "greenhouse" / "lumenlabs.json"
    engine = dbmod.get_engine(db_url)
    with serve(root) as server:
        args = ("-a", "board=lumenlabs", "-a", f"api_base={server.base_url}", "-a", "roles=all")
        args += ("-s", f"JOBAGG_DB_IN_THREAD={in_thread}")
        assert scrapy_crawl("greenhouse", tmp_path, db_url, *args).returncode == 0
        before = {p.source_id: p for p in _postings(engine)}
        data = json.loads(board_file.read_text())
        jobs = [j for j in data["jobs"] if j.get("id") != 4410002]  # would be closed by a good run
        for job in jobs:
            if job.get("id") == 4410003:
                job["title"] = _REFUSED_TITLE
        board_file.write_text(json.dumps({"jobs": jobs, "meta": {"total": len(jobs)}}))
        with engine.begin() as conn:
            for statement in _TRIGGER_SQL[engine.dialect.name]:
                conn.execute(text(statement))
        try:
            second = scrapy_crawl("greenhouse", tmp_path, db_url, *args)
        finally:
            with engine.begin() as conn:
                for statement in _DROP_TRIGGER_SQL[engine.dialect.name]:
                    conn.execute(text(statement))
    assert second.returncode == 0
    # The batch rolled back whole, then its postings were stored one by one: only the refused one is lost.
    assert "storing 1 of 3 postings failed" in second.log
    after = {p.source_id: p for p in _postings(engine)}
    assert all(p.closed_at is None for p in after.values())  # 4410002 left the listing but stays open
    assert after["4410003"].title == before["4410003"].title
    # The unchanged postings' last-seen refresh was retried on its own and is kept.
    assert after["4410001"].last_seen_at > before["4410001"].last_seen_at
    with dbmod.session_scope(engine) as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
        assert run.status == "failed" and run.closed_count == 0
        assert run.stats["jobagg/store/errors"] == 1 and run.stats["jobagg/store/lost"] == 1
        assert run.stats["jobagg/store/written"] == 2 and run.stats["jobagg/store/retried_one_by_one"] == 3
        assert run.boards["lumenlabs"]["status"] == "ok"  # the listing was fine; the store was not


class _ThreadRecordingWriter(PostingWriter):
    """The real writer, noting which thread wrote each batch and how many writes overlapped."""

    def __init__(self, engine) -> None:  # type: ignore[no-untyped-def]
        super().__init__(engine)
        self.threads: list[int] = []
        self.batches: list[list[str]] = []
        self.in_flight = self.most_in_flight = 0

    def write(self, rows, run_id=None, unchanged_ids=()) -> None:  # type: ignore[no-untyped-def]
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.threads.append(threading.get_ident())
            self.batches.append([r["source_id"] for r in rows])
            time.sleep(0.01)  # long enough for the other items to pile up behind a write
            super().write(rows, run_id, unchanged_ids)
        finally:
            self.in_flight -= 1


@pytest.mark.parametrize("in_thread", [True, False], ids=["worker-thread", "reactor-thread"])
def test_store_pipeline_writes_batches_in_order_one_at_a_time(sqlite_url: str, in_thread: bool) -> None:
    from scrapy.utils.test import get_crawler

    from crawler.items import JobPostingItem
    from pipelines.store import StorePostingsPipeline

    settings = {"JOBAGG_DATABASE_URL": sqlite_url, "JOBAGG_STORE_BATCH_SIZE": 3, "JOBAGG_DB_IN_THREAD": in_thread}
    crawler = get_crawler(settings_dict=settings)
    pipeline = StorePostingsPipeline.from_crawler(crawler)
    engine = dbmod.get_engine(sqlite_url)
    pipeline.writer = writer = _ThreadRecordingWriter(engine)

    def item(n: int) -> JobPostingItem:
        fields = _item(str(n))
        if n == 4:
            fields["url"] = None  # NOT NULL: the batch holding posting 4 is refused as a whole
        return JobPostingItem(**{k: v for k, v in fields.items() if k in ("ats", "board", "source_id", "url", "title")})

    async def crawl() -> None:
        # Items arrive concurrently, as Scrapy hands them over (CONCURRENT_ITEMS per response).
        await asyncio.gather(*(pipeline.process_item(item(n)) for n in range(1, 9)))
        await pipeline.close_spider()  # the last, partial batch

    asyncio.run(crawl())
    main = threading.get_ident()
    assert all((t != main) is in_thread for t in writer.threads)
    assert writer.most_in_flight == 1
    assert writer.batches == [["1", "2", "3"], ["4", "5", "6"], ["7", "8"]]
    assert [p.source_id for p in _postings(engine)] == ["1", "2", "3", "7", "8"]
    stats = crawler.stats.get_stats()
    assert (stats["jobagg/store/errors"], stats["jobagg/store/lost"], stats["jobagg/store/written"]) == (1, 3, 5)


def test_a_board_is_prefetched_once_and_its_detail_requests_never_reload_it(sqlite_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from scrapy import Request, Spider
    from scrapy.utils.test import get_crawler

    from crawler.boards import BoardRef
    from crawler.items import JobPostingItem
    from pipelines import reuse

    PostingWriter(dbmod.get_engine(sqlite_url)).write([_item("1"), _item("2")])
    monkeypatch.setattr(reuse, "ROWS_IN_MEMORY", 8)  # acme's 2 rows and 6 empty boards
    crawler = get_crawler(settings_dict={"JOBAGG_DATABASE_URL": sqlite_url, "JOBAGG_DB_IN_THREAD": True})
    pipeline = reuse.ReuseUnchangedPipeline.from_crawler(crawler)
    pipeline.open_spider()
    spider = Spider(name="greenhouse")

    def request(token: str, path: str) -> Request:
        return Request(f"https://boards.example/{token}/{path}", cb_kwargs={"board": BoardRef(token)})

    async def crawl() -> None:
        pipeline.prefetch(request("acme", "list"), spider)
        await asyncio.sleep(0.2)  # the load runs in a worker thread
        assert pipeline.stored is not None and set(pipeline.stored.cached(("greenhouse", "acme")) or {}) == {"1", "2"}
        for n in range(7):  # other boards push acme out of memory
            pipeline.prefetch(request(f"other{n}", "list"), spider)
        await asyncio.sleep(0.2)
        assert pipeline.stored.cached(("greenhouse", "acme")) is None
        for n in range(5):
            pipeline.prefetch(request("acme", f"detail/{n}"), spider)
        await asyncio.sleep(0.2)
        assert crawler.stats.get_value("jobagg/reuse/board_loads") == 8  # acme, others
        # Only an item brings it back, once.
        item = JobPostingItem(ats="greenhouse", board="acme", source_id="1", title="Machine Learning Engineer")
        await pipeline.process_item(item)

    asyncio.run(crawl())
    stats = crawler.stats.get_stats()
    assert stats["jobagg/reuse/prefetched"] == 8
    assert stats["jobagg/reuse/board_loads"] == 9


def test_stored_boards_keep_a_budget_of_rows_and_always_the_newest_board(sqlite_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from pipelines import reuse

    monkeypatch.setattr(reuse, "ROWS_IN_MEMORY", 10)
    boards = reuse.StoredBoards(dbmod.get_engine(sqlite_url))

    def rows(n: int) -> dict:
        return {str(i): {} for i in range(n)}

    boards.keep(("greenhouse", "a"), rows(4))
    boards.keep(("greenhouse", "b"), rows(4))
    boards.keep(("greenhouse", "a"), rows(5))  # loaded again: counted once, now the newest
    assert list(boards.boards) == [("greenhouse", "b"), ("greenhouse", "a")] and boards.rows == 9
    boards.keep(("greenhouse", "c"), rows(2))  # 11 > 10: the oldest (b) goes
    assert list(boards.boards) == [("greenhouse", "a"), ("greenhouse", "c")] and boards.rows == 7
    boards.keep(("greenhouse", "huge"), rows(50))  # bigger than the budget: alone, but kept
    assert list(boards.boards) == [("greenhouse", "huge")] and boards.rows == 50
