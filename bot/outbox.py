"""The one outbox of every adapter: replies are written in the same transaction as the command
they answer (`then`), then claimed with a lease by whichever instance is free and handed to the
adapter of their platform, in order per chat. A reply is sent once across instances; only the
one in flight when an instance dies can go out twice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot import wire
from bot.delivery import ChatUnavailable
from bot.tuning import DEFAULT_TUNING
from bot.worker import Worker
from handlers.clock import Clock
from handlers.engine.dispatch import Then
from handlers.values import Ref, Reply
from storage import inbox, outbox
from storage.db import Database, after_commit
from storage.outbox import Claimed

log = logging.getLogger(__name__)

# Sends one reply to `target` with the adapter's hints (what it is an answer to, and how).
Answer = Callable[[Ref, Reply, dict[str, Any]], Awaitable[None]]

LEASE = timedelta(minutes=2)
POLL = 1.0  # seconds between looks for replies other instances wrote
RETRY_DELAYS = DEFAULT_TUNING.reply_retry  # 5 s, 30 s, 2 min
# After those, again every last delay: a platform down or hanging for an hour must not lose the
# confirmations it held up (SPEC §7). Given up after about a day, when the news is stale.
MAX_ATTEMPTS = len(RETRY_DELAYS) + 24 * 30
# Replies in flight at once. Those sent but not yet marked sent when the process is killed go out
# again after its restart, so a smaller batch sends fewer twice; Telegram takes ~30 a second.
BATCH = 16
KEEP = timedelta(days=2)


class Outbox(Worker):
    name = "outbox"
    batch = BATCH

    def __init__(
        self,
        db: Database,
        clock: Clock,
        owner: str,
        *,
        poll: float = POLL,
        retry: float = 2.0,
        delays: Sequence[timedelta] = RETRY_DELAYS,
    ) -> None:
        super().__init__(db, clock, owner, poll=poll, retry=retry)
        self._answers: dict[str, Answer] = {}
        self.delays = tuple(delays)  # pauses before a failed reply's next attempts

    def serve(self, platform: str, answer: Answer) -> None:
        self._answers[platform] = answer

    def then(
        self,
        target: Ref,
        hints: dict[str, Any],
        *,
        delivery: int | None = None,
        errors: bool = True,
    ) -> Then:
        """For `engine.handle`: in the command's transaction, write its reply for `target` and
        mark the `delivery` that carried it done. With `errors=False` an error reply is not
        sent (the adapter shows it its own way, e.g. in a form). Once the transaction commits
        the reply is sent at once, unless earlier ones to `target` are still on their way."""

        def write(session: Any, reply: Reply) -> None:
            now = self.clock.now()
            if errors or not reply.is_error:
                payload = wire.dumps(reply, hints)
                lease = (self.owner, LEASE) if self.working else None
                claimed = outbox.add(
                    session, target.platform, target.key, payload, now, claim_for=lease
                )
                after_commit(session, lambda: self._written(target.key, claimed))
            if delivery is not None:
                inbox.done(session, delivery, now)

        return write

    def _written(self, target: str, claimed: Claimed | None) -> None:
        """In the thread that committed a reply: send it now, or wake the loop for it."""
        loop = self._loop
        if loop is None:
            return  # not started: the loop finds it when it is
        if claimed is not None:
            loop.call_soon_threadsafe(self._start, claimed, target)
        else:
            loop.call_soon_threadsafe(self._waits, target)

    # --- working ------------------------------------------------------------------------------
    def _has_work(self) -> bool:
        return bool(self._answers)

    def _claim_rows(self, session: Any, now: datetime, limit: int) -> list[Claimed]:
        return outbox.claim(session, list(self._answers), self.owner, now, LEASE, limit)

    def _group_of(self, item: Claimed) -> str:
        return item.target

    def _prune(self, session: Any, now: datetime) -> None:
        outbox.prune(session, now - KEEP)

    def _release_owner(self, session: Any) -> None:
        outbox.release_owner(session, self.owner)

    async def _work(self, item: Claimed) -> None:
        reply, hints = wire.loads(item.payload)
        try:
            await self._answers[item.platform](Ref.parse(item.target), reply, hints)
        except ChatUnavailable as error:  # blocked, removed, gone: trying again cannot help
            log.info("reply %s to %s not deliverable: %s", item.id, item.target, error)
            await self._update(outbox.finish, item.id, "failed", self.clock.now(), str(error))
            return
        except Exception as error:  # the platform or the network failed us
            attempt = item.attempts - 1
            log.warning(
                "reply %s to %s failed (attempt %d): %r", item.id, item.target, attempt + 1, error
            )
            if attempt + 1 < MAX_ATTEMPTS:
                at = self.clock.now() + self.delays[min(attempt, len(self.delays) - 1)]
                await self._update(outbox.retry, item.id, at, repr(error))
            else:
                await self._update(outbox.finish, item.id, "failed", self.clock.now(), repr(error))
            return
        await self._update(outbox.finish, item.id, "sent", self.clock.now())
