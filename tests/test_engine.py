"""Engine guarantees: unexpected errors are logged with an id the user sees, nothing of a
failed command is kept, and one message delivered many times at once is recorded once."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from handlers.clock import FixedClock
from handlers.engine.command import Access, Command, CommandTable, Group, Topic
from handlers.engine.context import Ctx, Settings
from handlers.engine.dispatch import Engine
from handlers.language.i18n import Catalogs
from handlers.values import Ref, Reply, Request
from storage.db import Database
from storage.models import AuditEvent, Report
from tests.conftest import Chat


def test_an_unexpected_error_is_logged_with_the_id_the_user_sees(
    db: Database, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(ctx: Ctx) -> Reply:
        ctx.audit(None, "half-written")
        raise RuntimeError("disk on fire")

    table = CommandTable(
        [Topic("boom", "boom", Group.EVERYONE)],
        [Command("boom", None, boom, Access.ANYONE, "/boom", "boom")],
    )
    engine = Engine(db, clock, Catalogs(), Settings(), table)
    with caplog.at_level(logging.ERROR):
        reply = engine.handle(Request(Ref("shell", "", "a"), Ref("shell", "", "@a"), "boom"))
    assert reply.is_error and "disk on fire" not in reply.text
    error_id = re.search(r"\(mã lỗi ([0-9a-f]{8})\)", reply.text)
    assert error_id, reply.text
    (record,) = caplog.records
    assert error_id.group(1) in record.getMessage() and "disk on fire" in caplog.text
    with db.session() as session:
        assert session.exec(select(AuditEvent)).all() == []  # nothing half-written


def test_an_over_long_message_is_refused_plainly(campaign: Chat) -> None:
    reply = campaign.error("lan", "/report " + "1 hộ " * 600)
    assert "too long" in reply.text


def test_one_message_delivered_eight_times_at_once_is_recorded_once(
    campaign: Chat, db: Database
) -> None:
    request = Request(
        Ref("shell", "", "lan"),
        Ref("shell", "", "@lan"),
        "report",
        "4 hộ",
        user_name="lan",
        language="en",
        message_id="telegram:9:1",
    )
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: campaign.engine.handle(request), range(8)))
    assert all("Report #1 recorded" in r.text for r in replies), [r.text for r in replies]
    with db.session() as session:
        assert len(session.exec(select(Report)).all()) == 1
    assert "total 4 / 500" in campaign.ok("lan", "/progress").text
