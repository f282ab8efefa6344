"""The composition root: config in, everything that runs out, each piece built with what it
needs and nothing changed afterwards. `tiendo run`, the other CLI commands and the tests all
build through `build`; nothing is wired at import time."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Config
from bot.delivery import Adapter, Outbox, Sender
from bot.digests import Defer, Digests, Reminders
from bot.scheduler import Schedule, later
from bot.tuning import DEFAULT_TUNING, Tuning
from handlers.clock import Clock, SystemClock
from handlers.context import Settings
from handlers.engine import Engine
from handlers.i18n import Catalogs
from handlers.table import build_table
from storage.db import Database


@dataclass(frozen=True)
class App:
    config: Config
    clock: Clock
    db: Database
    engine: Engine
    outbox: Outbox
    digests: Digests
    reminders: Reminders
    schedule: Schedule
    adapters: tuple[Adapter, ...]
    instance: str  # names this process in digest claims, to tell instances apart
    render_pool: Executor | None  # where digests render; None: a thread of this process


def build(
    config: Config,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    superadmins: tuple[str, ...] = (),
    migrate: bool = True,
    adapters: bool = False,
    tuning: Tuning = DEFAULT_TUNING,
    senders: Mapping[str, Sender] | None = None,
    defer: Defer | None = None,
    render_pool: Executor | None = None,
) -> App:
    """Wire storage, translations, the command engine, delivery, the digest services and, with
    `adapters`, every platform the config enables. `superadmins` adds to the config's list (the
    shell makes its local `admin` one); `senders` adds outbound channels (tests pass fakes);
    `defer` replaces the scheduler's one-off jobs for digest retries. With `adapters` (`tiendo
    run`) digests render in worker processes, one per core, unless `render_pool` is given
    (tests pass an inline one); otherwise in a thread, as the CLI and the shell need."""
    clock = clock or SystemClock()
    if db is None:
        db = Database(config.database.url)
        if migrate:
            db.upgrade()
    settings = Settings(
        superadmins=frozenset(config.admins.superadmins) | frozenset(superadmins),
        default_language=config.defaults.language,
        default_timezone=config.defaults.timezone,
        deep_link_base=config.telegram.deep_link_base,
    )
    catalogs = Catalogs()
    engine = Engine(db, clock, catalogs, settings, build_table())
    platforms = _adapters(config, db, clock, engine, tuning) if adapters else ()
    outbox = Outbox({**{a.platform: a.sender for a in platforms}, **(senders or {})})
    scheduler = AsyncIOScheduler(timezone=UTC)
    instance = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
    language = config.defaults.language
    if render_pool is None and adapters:
        from bot.rendering import process_pool

        render_pool = process_pool(db.url)
    digests = Digests(
        db,
        clock,
        catalogs,
        outbox,
        defer or later(scheduler),
        instance=instance,
        language=language,
        pool=render_pool,
    )
    reminders = Reminders(db, clock, catalogs, outbox, language)
    schedule = Schedule(scheduler, digests, reminders)
    return App(
        config,
        clock,
        db,
        engine,
        outbox,
        digests,
        reminders,
        schedule,
        platforms,
        instance,
        render_pool,
    )


def _adapters(
    config: Config, db: Database, clock: Clock, engine: Engine, tuning: Tuning
) -> tuple[Adapter, ...]:
    """The enabled platforms' adapters; each library is imported only when its platform is on."""
    from bot.inbox import Inbox

    built: list[Adapter] = []
    if config.slack.enabled:
        from bot.slack import SlackAdapter

        built.append(SlackAdapter(config.slack, engine))
    if config.telegram.enabled:
        from bot.telegram import TelegramAdapter

        inbox = Inbox(db, clock, f"telegram:{config.telegram.bot_id}")
        built.append(TelegramAdapter(config.telegram, engine, inbox, tuning))
    return tuple(built)
