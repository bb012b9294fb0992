"""`jobagg serve` (read API + web page), `jobagg export` (JSONL / CSV / Parquet with tags), `jobagg alerts ...`."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from crawler.cli import AppContext, main, pass_app
from crawler.web.query import FILTER_SPECS, FilterError, parse_filters


def filter_options(func: Any) -> Any:
    """One click option per API filter (same names, same choices, same validation)."""
    for name, (kind, doc) in reversed(FILTER_SPECS.items()):
        flag = "--" + name.replace("_", "-")
        if isinstance(kind, tuple):
            func = click.option(flag, name, type=click.Choice(kind), default=None, help=doc)(func)
        else:
            func = click.option(flag, name, default=None, metavar=kind.upper(), help=doc)(func)
    return func


def collect_filters(values: dict[str, Any]) -> dict[str, str]:
    """The given filter options as query-parameter strings, validated like the API; exits on a bad one."""
    given = {k: str(v) for k, v in values.items() if k in FILTER_SPECS and v is not None}
    try:
        parse_filters(given)
    except FilterError as exc:
        raise click.BadParameter(exc.message, param_hint="--" + exc.name.replace("_", "-")) from None
    return given


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port.")
@pass_app
def serve(app: AppContext, host: str, port: int) -> None:
    """Serve the read API (/postings, /openapi.json) and the web page (/) until interrupted."""
    import uvicorn

    from crawler.web.app import create_app

    Console(stderr=True).print(f"jobagg: web page and API at http://{host}:{port}/ (Ctrl+C stops)")
    uvicorn.run(create_app(app.db_url), host=host, port=port, log_level="info")


@main.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "parquet"]), default="jsonl", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="File (default stdout).")
@click.option("--ml-only", is_flag=True, help="Only postings classified as ML roles (same as --ml true).")
@click.option("--include-closed", is_flag=True, help="Also postings no longer listed.")
@filter_options
@pass_app
def export(app: AppContext, fmt: str, out: Path | None, ml_only: bool, include_closed: bool, **filters: Any) -> None:
    """Export postings with both sponsorship tags, streaming, filtered like the API's /postings.

    With --out the file is written beside its destination and renamed over it only when complete, so a
    failed export never leaves an empty or half file in place of the previous one.
    """
    from crawler.web.export import iter_rows, write_csv, write_jsonl, write_parquet

    given = collect_filters(filters)
    if ml_only:
        given["ml"] = "true"
    f = parse_filters(given)
    if out is not None and not out.parent.is_dir():
        raise click.BadParameter(f"directory {out.parent} does not exist", param_hint="--out")
    if fmt == "parquet":
        if out is None:
            raise click.UsageError("--format parquet needs --out FILE")
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise click.ClickException("Parquet needs pyarrow: pip install 'jobagg[parquet]'") from None
    app.engine(create=False)
    rows = iter_rows(app.db_url, f, include_closed=include_closed)
    if out is None:
        write_jsonl(rows, sys.stdout) if fmt == "jsonl" else write_csv(rows, sys.stdout)
        return
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    except OSError as exc:
        raise click.ClickException(f"cannot write in {out.parent}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        if fmt == "parquet":
            os.close(fd)
            count = write_parquet(rows, str(tmp))
        else:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
                count = write_jsonl(rows, handle) if fmt == "jsonl" else write_csv(rows, handle)
        os.replace(tmp, out)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}; the previous file is unchanged") from None
    finally:
        tmp.unlink(missing_ok=True)
    Console(stderr=True).print(f"exported {count} postings to {out}")


@main.group("alerts")
def alerts() -> None:
    """Saved searches whose new matches `jobagg run` posts to a webhook."""


@alerts.command("add")
@click.option("--name", required=True, help="A name for the search.")
@click.option(
    "--webhook",
    required=True,
    metavar="URL",
    envvar="JOBAGG_ALERT_WEBHOOK",
    help="Where new matches are POSTed (kept secret; better from JOBAGG_ALERT_WEBHOOK, out of the process list).",
)
@filter_options
@pass_app
def alerts_add(app: AppContext, name: str, webhook: str, **filters: Any) -> None:
    """Save a search: postings matching now are not sent, later matches are (once each)."""
    from crawler.web.alerts import add_search, mask_url

    given = collect_filters(filters)
    try:
        _, baseline = add_search(app.db_url, name, webhook, given)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    shown = " ".join(f"{k}={v}" for k, v in given.items()) or "(all open postings)"
    click.echo(f"saved {name!r}: {shown} -> {mask_url(webhook)}; {baseline} posting(s) already match (not sent)")


@alerts.command("list")
@pass_app
def alerts_list(app: AppContext) -> None:
    """Saved searches, their filters, masked webhooks and delivery counts."""
    from crawler.web.alerts import list_searches

    table = Table(title="Saved searches")
    for col in ("name", "filters", "webhook", "baseline", "pending", "delivered"):
        table.add_column(col, overflow="fold")
    for s in list_searches(app.db_url):
        d = s["deliveries"]
        table.add_row(
            s["name"],
            " ".join(f"{k}={v}" for k, v in s["filters"].items()) or "(all)",
            s["webhook"],
            *(str(d.get(k, 0)) for k in ("baseline", "pending", "delivered")),
        )
    Console().print(table)


@alerts.command("remove")
@click.argument("name")
@pass_app
def alerts_remove(app: AppContext, name: str) -> None:
    """Delete a saved search and its delivery records."""
    from crawler.web.alerts import remove_search

    if not remove_search(app.db_url, name):
        raise click.ClickException(f"no saved search named {name!r}")
    click.echo(f"removed {name!r}")


def deliver_alerts_step(db_url: str, console: Console) -> bool:
    """`jobagg run`'s last step; False when some webhook failed (its matches stay pending for the next run)."""
    from crawler.web.alerts import deliver_new_matches

    reports = deliver_new_matches(db_url)
    if not reports:
        return True
    table = Table(title="Alerts")
    for col in ("search", "webhook", "new matches", "delivered", "failed"):
        table.add_column(col)
    for r in reports:
        table.add_row(r.search, r.webhook, str(r.new), str(r.delivered), str(r.failed))
    console.print(table)
    for r in reports:
        for err in r.errors:
            console.print(f"[red]alert {r.search!r} to {r.webhook} failed: {err}[/red]")
    return not any(r.failed for r in reports)
