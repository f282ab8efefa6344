"""Digests rendered in worker processes. matplotlib holds the GIL while it draws, so the charts
of many campaigns due in the same minute render in parallel only in separate processes. A
worker opens its own database handle and catalogs once, reads the campaign and returns the
finished Reply (plain values: it crosses the process boundary as a pickle)."""

from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from functools import cache

from handlers.language.i18n import Catalogs
from handlers.values import Reply
from storage.db import Database


@cache
def _resources(url: str) -> tuple[Database, Catalogs]:
    return Database(url, read_only=True), Catalogs()


def warm(url: str) -> None:
    """A worker's initializer: the database, the catalogs and the chart library, before the
    first digest waits for them. Then what they built (~200,000 objects, kept for the
    worker's life) is put out of the cyclic collector's sight, as `runtime.settle_heap` does
    for the bot: a digest's charts make enough objects to set off full collections, which
    walked all of it every time."""
    import charts.style  # noqa: F401  (loads matplotlib)

    _resources(url)
    gc.collect()
    gc.freeze()


def render(url: str, campaign_id: int, day: date, language: str, late: bool) -> Reply:
    from handlers.read import digest
    from storage import queries

    db, catalogs = _resources(url)
    with db.session() as session:
        campaign = queries.campaign(session, campaign_id)
        return digest.build(session, catalogs.translator(language), campaign, day, late=late)


def process_pool(url: str, workers: int | None = None) -> ProcessPoolExecutor:
    """One worker per core. Workers start on the first digest, not with the bot, so an idle
    bot does not hold them; "spawn" because forking a process that runs threads (the event
    loop's executor, the database pool) can copy a held lock into the child."""
    return ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=warm,
        initargs=(url,),
    )
