"""The `jobagg` command line. Each sub-module registers its commands on `main`."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any

import click

from crawler.dburl import DatabaseError, resolve_url

if TYPE_CHECKING:
    from sqlalchemy import Engine

# The module that defines each command. Only the invoked command's module is imported: start-up is most of a
# quick command's time, and the crawl and web modules pull in scrapy, pydantic and fastapi.
COMMAND_MODULES = {
    "alerts": "web",
    "boards": "boards",
    "crawl": "crawling",
    "db": "database",
    "demo": "crawling",
    "dol": "dol",
    "employers": "matching",
    "export": "web",
    "match": "matching",
    "reclassify": "reclassify",
    "run": "crawling",
    "serve": "web",
    "status": "status",
    "why": "why",
}

# How wide tables are printed when output goes to a file or a pipe (a scheduled run's log), not a terminal.
LOG_COLUMNS = 160


def load_commands(names: Iterable[str] | None = None) -> None:
    """Import the modules defining `names` (every command when None); importing a module registers its commands."""
    wanted = COMMAND_MODULES if names is None else [n for n in names if n in COMMAND_MODULES]
    for module in sorted({COMMAND_MODULES[n] for n in wanted}):
        import_module(f"crawler.cli.{module}")


class JobaggGroup(click.Group):
    """Commands imported on first use; database errors become one clear line naming the database, not a traceback."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **kwargs: Any) -> Any:
        if args is not None:  # called from code (tests, CliRunner): the process lives on
            return super().main(args, *rest, **kwargs)
        if "COLUMNS" not in os.environ and not sys.stdout.isatty():
            # Piped into a log, tables get room for whole names and figures instead of rich's 80-column guess.
            os.environ["COLUMNS"] = str(LOG_COLUMNS)
        try:
            return super().main(args, *rest, **kwargs)
        finally:
            _leave_quickly()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands:
            # An unknown name loads them all, so the "did you mean" suggestions see every command.
            load_commands([cmd_name] if cmd_name in COMMAND_MODULES else None)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None
        except Exception as exc:
            # SQLAlchemy is imported only by commands that use it: an error of its kind means it was.
            sa = sys.modules.get("sqlalchemy.exc")
            if sa is not None and isinstance(exc, (sa.ArgumentError, sa.NoSuchModuleError)):
                raise click.ClickException(f"bad database URL {_shown(ctx)}: {exc}") from None
            if sa is not None and isinstance(exc, sa.OperationalError):
                raise click.ClickException(f"database {_shown(ctx)} failed: {str(exc.orig).strip()}") from None
            raise


def _leave_quickly() -> None:
    """This process is about to exit: close pooled connections cleanly, then keep the collector off every object.

    A load or look-up leaves millions of objects alive; the collections at shutdown would walk them all (about
    0.4 s after a 100k-row ingest) only to free memory the exit returns anyway.
    """
    db = sys.modules.get("crawler.db")
    if db is not None:
        db.dispose_all()
    gc.freeze()


def _shown(ctx: click.Context) -> str:
    from crawler.db import shown_url

    app = ctx.find_object(AppContext)
    return shown_url(app.db_url) if app is not None else "(unknown)"


class AppContext:
    """What every command needs: the database URL chosen by --db / $JOBAGG_DATABASE_URL / default."""

    def __init__(self, db: str | None) -> None:
        self.db_given = bool(db)
        self.db_url = resolve_url(db)

    def engine(self, create: bool = True) -> Engine:
        """The checked engine; `create=False` for commands that only read (they never create a database)."""
        from crawler.db import get_engine

        return get_engine(self.db_url, create=create)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jobagg")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    # Looked up only when asked: reading package metadata is a tenth of a quick command's start-up.
    if value and not ctx.resilient_parsing:
        click.echo(f"jobagg {_version()}")
        ctx.exit()


@click.group(cls=JobaggGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db",
    metavar="URL",
    help="Database URL: sqlite:///PATH or postgresql://USER@HOST/DB (default: $JOBAGG_DATABASE_URL or ./jobagg.db).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Find ML jobs at employers that sponsor visas and green cards."""
    ctx.obj = AppContext(db)


pass_app = click.make_pass_decorator(AppContext)
