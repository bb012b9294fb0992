"""The `jobagg` command line. Each sub-module registers its commands on `main`."""

from __future__ import annotations

import click
import sqlalchemy
import sqlalchemy.exc

from crawler.db import resolve_url


class JobaggGroup(click.Group):
    """Turns database errors into one clear line naming the database, instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.NoSuchModuleError) as exc:
            raise click.ClickException(f"bad database URL {_shown(ctx)}: {exc}") from None
        except sqlalchemy.exc.OperationalError as exc:
            raise click.ClickException(f"database {_shown(ctx)} failed: {str(exc.orig).strip()}") from None


def _shown(ctx: click.Context) -> str:
    app = ctx.find_object(AppContext)
    if app is None:
        return "(unknown)"
    try:
        return sqlalchemy.engine.make_url(app.db_url).render_as_string(hide_password=True)
    except sqlalchemy.exc.ArgumentError:
        return repr(app.db_url)


class AppContext:
    """What every command needs: the database URL chosen by --db / $JOBAGG_DATABASE_URL / default."""

    def __init__(self, db: str | None) -> None:
        self.db_url = resolve_url(db)


@click.group(cls=JobaggGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
from crawler.cli import boards, crawling, database, dol, matching, reclassify, status, web  # noqa: E402,F401
