"""`jobagg db ...`: schema migrations."""

from __future__ import annotations

import click
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
    """Apply migrations (creates the SQLite file if needed)."""
    engine = dbmod.make_engine(app.db_url)
    before = dbmod.current_revision(engine)
    dbmod.upgrade(engine, revision)
    after = dbmod.current_revision(engine)
    Console().print(f"database {engine.url.render_as_string(hide_password=True)}: {before or 'empty'} -> {after}")
