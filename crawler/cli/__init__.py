"""The `jobagg` command line. Each sub-module registers its commands on `main`."""

from __future__ import annotations

import click

from crawler.db import resolve_url


class AppContext:
    """What every command needs: the database URL chosen by --db / $JOBAGG_DATABASE_URL / default."""

    def __init__(self, db: str | None) -> None:
        self.db_url = resolve_url(db)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db",
    metavar="URL",
    help="SQLAlchemy database URL (default: $JOBAGG_DATABASE_URL or ./jobagg.db).",
)
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Find ML jobs at employers that sponsor visas and green cards."""
    ctx.obj = AppContext(db)


pass_app = click.make_pass_decorator(AppContext)

# Registration: importing a module attaches its commands to `main`.
from crawler.cli import boards, crawling, database, dol, matching, reclassify, status  # noqa: E402,F401
