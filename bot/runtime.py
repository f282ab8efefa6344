"""`tiendo run`: one asyncio process hosting the enabled adapters, the shared HTTP server
(webhooks, Slack events, /healthz) and the scheduler."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from datetime import UTC
from typing import Protocol

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.delivery import Outbox, Sender
from bot.digests import Digests, Reminders
from bot.scheduler import Schedule

log = logging.getLogger(__name__)


class Adapter(Protocol):
    platform: str
    sender: Sender

    def mount(self, web_app: web.Application) -> None:
        """Add HTTP routes (webhooks, Slack events) before the shared server starts."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Runtime:
    def __init__(self, app: App, adapters: list[Adapter]) -> None:
        self.app = app
        self.adapters = adapters
        self.outbox = Outbox({a.platform: a.sender for a in adapters})
        self.web = web.Application()
        self.web.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        # Names this instance in digest claims, to tell instances apart in the database.
        self.instance = f"{socket.gethostname()}:{id(self):x}"
        self.port = 0

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "adapters": [a.platform for a in self.adapters]})

    async def start(self) -> None:
        for adapter in self.adapters:
            adapter.mount(self.web)
        self._runner = web.AppRunner(self.web)
        await self._runner.setup()
        server = self.app.config.server
        site = web.TCPSite(self._runner, server.host, server.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        for adapter in self.adapters:
            await adapter.start()
        engine, config = self.app.engine, self.app.config
        digests = Digests(
            self.app.db,
            engine.clock,
            engine.catalogs,
            self.outbox,
            self.instance,
            config.defaults.language,
        )
        reminders = Reminders(
            self.app.db, engine.clock, engine.catalogs, self.outbox, config.defaults.language
        )
        Schedule(self._scheduler, self.app.db, digests, reminders).start()
        log.info(
            "tiendo is running: %s; HTTP on %s:%s",
            ", ".join(a.platform for a in self.adapters),
            server.host,
            self.port,
        )

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for adapter in reversed(self.adapters):
            await adapter.stop()
        if self._runner is not None:
            await self._runner.cleanup()


async def run_until_signalled(runtime: Runtime) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()
