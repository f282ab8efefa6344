"""The composition root: config in, everything that runs out, each piece built with what it
needs and nothing changed afterwards. `tiendo run`, the other CLI commands and the tests all
build through `build`; nothing is wired at import time."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Config
from bot.delivery import Adapter, Sender, Senders
from bot.digests import Digests, Reminders
from bot.inbox import Inbox
from bot.outbox import Outbox
from bot.scheduler import Schedule
from bot.tuning import DEFAULT_TUNING, Tuning
from handlers.clock import Clock, SystemClock
from handlers.commands.table import build_table
from handlers.engine.context import Settings
from handlers.engine.dispatch import Engine
from handlers.language.i18n import Catalogs
from storage.db import Database


@dataclass(frozen=True)
class App:
    config: Config
    clock: Clock
    db: Database
    engine: Engine
    inbox: Inbox  # what the platforms delivered
    outbox: Outbox  # the answers to it
    senders: Senders  # for what nobody asked for: digests, reminders, notices
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
    render_pool: Executor | None = None,
) -> App:
    """Wire storage, translations, the command engine, delivery, the digest services and, with
    `adapters`, every platform the config enables. `superadmins` adds to the config's list (the
    shell makes its local `admin` one); `senders` adds outbound channels (tests pass fakes).
    With `adapters` (`tiendo run`) digests render in worker processes, one per core, unless
    `render_pool` is given (tests pass an inline one); otherwise in a thread, as the CLI and
    the shell need."""
    clock = clock or SystemClock()
    if db is None:
        db = Database(config.database.url, busy_timeout=config.database.busy_timeout)
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
    instance = config.server.instance or socket.gethostname()
    inbox = Inbox(db, clock, instance, poll=tuning.worker_poll, retry=tuning.record_retry)
    outbox = Outbox(
        db,
        clock,
        instance,
        poll=tuning.worker_poll,
        retry=tuning.record_retry,
        delays=tuning.reply_retry,
    )
    platforms = _adapters(config, engine, inbox, outbox, tuning) if adapters else ()
    routes = Senders({**{a.platform: a.sender for a in platforms}, **(senders or {})})
    language = config.defaults.language
    if render_pool is None and adapters:
        from bot.rendering import process_pool

        render_pool = process_pool(db.url)
    digests = Digests(
        db, clock, catalogs, routes, instance=instance, language=language, pool=render_pool
    )
    reminders = Reminders(db, clock, catalogs, routes, language)
    schedule = Schedule(AsyncIOScheduler(timezone=UTC), digests, reminders)
    return App(
        config,
        clock,
        db,
        engine,
        inbox,
        outbox,
        routes,
        digests,
        reminders,
        schedule,
        platforms,
        instance,
        render_pool,
    )


def _adapters(
    config: Config, engine: Engine, inbox: Inbox, outbox: Outbox, tuning: Tuning
) -> tuple[Adapter, ...]:
    """The enabled platforms' adapters; each library is imported only when its platform is on."""
    built: list[Adapter] = []
    if config.zalo.enabled:
        from bot.zalo import ZaloAdapter

        public_url = config.server.public_url
        built.append(
            ZaloAdapter(config.zalo, engine, inbox, outbox, public_url=public_url, tuning=tuning)
        )
    if config.slack.enabled:
        from bot.slack import SlackAdapter

        built.append(SlackAdapter(config.slack, engine, inbox, outbox, tuning))
    if config.telegram.enabled:
        from bot.telegram import TelegramAdapter

        built.append(TelegramAdapter(config.telegram, engine, inbox, outbox, tuning))
    return tuple(built)
