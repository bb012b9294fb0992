"""`jobagg db ...`: schema migrations."""

from __future__ import annotations

import click
import sqlalchemy.exc
from rich.console import Console

from crawler import db as dbmod
from crawler.cli import AppContext, main, pass_app


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target migration revision.")
@pass_app
def upgrade(app: AppContext, revision: str) -> None:
    """Apply migrations (creates a new SQLite file; on PostgreSQL two callers at once are safe)."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    engine = dbmod.make_engine(app.db_url)
    path = dbmod.sqlite_path(engine)
    if path is not None and not path.exists() and not path.parent.is_dir():
        raise click.ClickException(f"cannot create database {path}: directory {path.parent} does not exist")
    try:
        before = dbmod.current_revision(engine)
        dbmod.upgrade(engine, revision)
        after = dbmod.current_revision(engine)
    except sqlalchemy.exc.OperationalError as exc:
        raise dbmod.explain_open_failure(engine, exc) from None
    except (CommandError, RevisionError) as exc:
        raise click.BadParameter(str(exc), param_hint="--revision") from None
    finally:
        engine.dispose()
    Console().print(f"database {dbmod.shown_url(engine.url)}: {before or 'empty'} -> {after}")
