"""Waits and time-outs of the adapters, passed in by the composition root so tests can shorten
them; production keeps these defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Tuning:
    form_timeout: float = 600  # seconds an unanswered guided form stays open
    form_sweep: float = 10.0  # seconds between looks for forms that timed out (Telegram)
    retry_backoff: float = 0.5  # seconds before the first retry of a failed platform call
    send_retries: int = 4  # retries of a failed Telegram call within one attempt of a send
    # Times a call answered 429 waits out Retry-After and goes again (PTB's limiter, slack-sdk).
    rate_limit_retries: int = 5
    poll_timeout: int = 30  # seconds a long poll waits for news
    # Seconds between an idle inbox's or outbox's looks for work another instance stored.
    worker_poll: float = 1.0
    # Seconds between tries to record a reply sent or a delivery done while the database is away.
    record_retry: float = 2.0
    # Seconds a platform call (Telegram's Bot API, Slack's Web API or response_url) may take
    # before it counts as failed and is tried again: a platform that hangs must not hold a
    # reply for ever.
    platform_timeout: float = 30.0
    # Pauses before the second, third … attempt of a reply the platform failed; the last one
    # repeats (bot/outbox.py).
    reply_retry: tuple[timedelta, ...] = (
        timedelta(seconds=5),
        timedelta(seconds=30),
        timedelta(minutes=2),
    )


DEFAULT_TUNING = Tuning()
