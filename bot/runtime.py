"""`tiendo run`: one asyncio process that starts what the composition root built — the shared
HTTP server (webhooks, Slack events, /healthz), the adapters and the scheduler — and stops it
again in reverse order."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

from aiohttp import web

from bot.app import App

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, app: App) -> None:
        self.app = app
        self.adapters = app.adapters
        self.web = web.Application()
        self.web.router.add_get("/healthz", self._health)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _health(self, _request: web.Request) -> web.Response:
        """200 while the database answers, 503 while it does not (a load balancer then sends
        nothing here; what is already stored waits for it)."""
        database = await asyncio.to_thread(self.app.db.ping)
        return web.json_response(
            {"ok": database, "database": database, "adapters": [a.platform for a in self.adapters]},
            status=200 if database else 503,
        )

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
        await self.app.inbox.start()
        await self.app.outbox.start()
        self.app.schedule.start()
        log.info(
            "tiendo is running: %s; HTTP on %s:%s",
            ", ".join(a.platform for a in self.adapters),
            server.host,
            self.port,
        )

    async def stop(self) -> None:
        self.app.schedule.stop()
        await self.app.inbox.stop()
        await self.app.outbox.stop()
        for adapter in reversed(self.adapters):
            await adapter.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        if self.app.render_pool is not None:  # a digest being drawn now is drawn again later
            self.app.render_pool.shutdown(wait=False, cancel_futures=True)


def settle_heap() -> None:
    """What start-up built lives as long as the process: collected once, then kept out of the
    cyclic collector's sight (`gc.freeze`). A full collection walks every tracked object while
    it holds the event loop; over the ~200,000 objects of a running bot that took 90–160 ms,
    which was the whole tail of the reply latency (bench/RESULTS.md). Afterwards it walks only
    what was made since."""
    gc.collect()
    gc.freeze()


async def run_until_signalled(runtime: Runtime) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    settle_heap()
    try:
        await stop.wait()
    finally:
        await runtime.stop()
