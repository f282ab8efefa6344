"""Faults to inject, shared by the fault tests (tests/test_faults*.py) and their long versions
(bench/faults.py): a database that fails for a while, and the checks every run ends with."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlmodel import col, select

from storage.db import Database
from storage.models import Report, ReportValue

APOLOGIES = ("something went wrong", "mã lỗi", "đã có lỗi")
CONFIRMED = re.compile(r"✅[^#]*#(\d+)")


@dataclass
class Outage:
    """While `down`, each statement on `db` fails with `rate` as a lost server or a locked
    SQLite file would (the driver's OperationalError): the engine, the inbox and the outbox
    all see it, at any point of their transactions."""

    db: Database
    rate: float = 1.0
    seed: int = 11
    down: bool = False
    failed: int = 0
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._error = self.db.engine.dialect.dbapi.OperationalError  # type: ignore[union-attr]
        event.listen(self.db.engine, "before_cursor_execute", self._statement)

    def _statement(self, *_args: Any) -> None:
        if self.down and self._random.random() < self.rate:
            self.failed += 1
            raise self._error("injected: the database is away")

    def remove(self) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._statement)


@dataclass(frozen=True)
class Tally:
    """What a run ended with, report by report (each report carries its own value)."""

    sent: int
    stored: int
    doubled: int  # values stored more than once
    lost: int  # values sent and never stored
    wrong: int  # stored values nobody sent
    confirmed: int  # reports confirmed at least once
    confirmed_twice: int  # reports whose confirmation went out more than once
    apologies: int  # "Sorry, something went wrong" replies

    @property
    def ok(self) -> bool:
        return not (self.doubled or self.lost or self.wrong or self.apologies) and (
            self.confirmed == self.stored == self.sent
        )


def tally(db: Database, sent_values: Iterable[float], replies: Iterable[str]) -> Tally:
    sent = Counter(sent_values)
    with db.session() as session:
        rows = session.exec(
            select(ReportValue.value)
            .join(Report, col(Report.id) == ReportValue.report_id)
            .where(Report.status == "active")
        ).all()
    stored = Counter(rows)
    texts = list(replies)
    confirmations = Counter(int(m) for text in texts for m in CONFIRMED.findall(text))
    return Tally(
        sent=sum(sent.values()),
        stored=sum(stored.values()),
        doubled=sum(n - 1 for n in stored.values() if n > 1),
        lost=sum(n for v, n in sent.items() if v not in stored),
        wrong=sum(n for v, n in stored.items() if v not in sent),
        confirmed=len(confirmations),
        confirmed_twice=sum(1 for n in confirmations.values() if n > 1),
        apologies=sum(1 for text in texts if any(a in text.lower() for a in APOLOGIES)),
    )
