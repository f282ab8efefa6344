"""An adapter's inbox of deliveries: stored before the platform is told they arrived, handled
after, pruned once old. A thin layer over `storage.inbox` that holds the database, the clock and
the source (which bot received them), so adapters need neither."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.clock import Clock
from storage import inbox
from storage.db import Database

# Telegram may reuse update ids after a week of silence; older rows only cost space.
KEEP = timedelta(days=8)
PRUNE_EVERY = timedelta(hours=1)


class Inbox:
    def __init__(self, db: Database, clock: Clock, source: str) -> None:
        self.db = db
        self.clock = clock
        self.source = source
        self._pruned: datetime | None = None

    def store(self, updates: list[tuple[int, str]]) -> int:
        """Store (update id, JSON payload) pairs; a pair already stored is ignored. Returns how
        many were new."""
        with self.db.session() as session:
            return inbox.store(session, self.source, updates, self.clock.now())

    def pending(self) -> list[tuple[int, str]]:
        """(row id, payload) of what is stored and not handled yet, oldest first."""
        with self.db.session() as session:
            now = self.clock.now()
            if self._pruned is None or now - self._pruned > PRUNE_EVERY:
                inbox.prune(session, now - KEEP)
                self._pruned = now
            return [(r.id, r.payload) for r in inbox.pending(session, self.source) if r.id]

    def done(self, row_id: int) -> None:
        with self.db.session() as session:
            inbox.mark_processed(session, row_id, self.clock.now())
