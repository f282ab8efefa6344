"""The composition root: config in, a wired application out. Nothing is wired at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Config
from handlers.clock import Clock, SystemClock
from handlers.context import Settings
from handlers.engine import Engine
from handlers.i18n import Catalogs
from handlers.table import build_table
from storage.db import Database


@dataclass
class App:
    config: Config
    db: Database
    engine: Engine


def build(
    config: Config,
    *,
    clock: Clock | None = None,
    superadmins: tuple[str, ...] = (),
    migrate: bool = True,
) -> App:
    """Wire storage, translations and the command engine. `superadmins` adds to the config's
    list (the shell makes its local `admin` one)."""
    db = Database(config.database.url)
    if migrate:
        db.upgrade()
    settings = Settings(
        superadmins=frozenset(config.admins.superadmins) | frozenset(superadmins),
        default_language=config.defaults.language,
        default_timezone=config.defaults.timezone,
    )
    engine = Engine(db, clock or SystemClock(), Catalogs(), settings, build_table())
    return App(config, db, engine)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic narrates every migration step at INFO; only its problems matter on a console.
    logging.getLogger("alembic").setLevel(logging.WARNING)
