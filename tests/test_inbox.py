"""Storage behind the adapters: the inbox of delivered updates, the outbox of replies, and
chats that change id."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, col, select

from bot import wire
from bot.outbox import BATCH, Outbox
from handlers.clock import FixedClock
from handlers.values import Ref, Reply
from storage import inbox, outbox, queries
from storage.db import Database
from storage.models import Chat, Delivery, DigestSubscription, Outgoing
from tests.conftest import NOW
from tests.conftest import Chat as Talk

SOURCE = "telegram:7"
LEASE = timedelta(minutes=2)


def test_a_redelivered_update_is_stored_once_and_handled_once(db: Database) -> None:
    with db.session() as session:
        assert len(inbox.store(session, SOURCE, [("5", "a", "{}"), ("6", "b", "{}")], NOW)) == 2
    with db.session() as session:
        # Telegram sends 6 again with 7; another bot's update 5 is its own.
        assert len(inbox.store(session, SOURCE, [("6", "b", "{}"), ("7", "c", "{}")], NOW)) == 1
        assert len(inbox.store(session, "telegram:8", [("5", "a", "{}")], NOW)) == 1
    with db.session() as session:
        claimed = inbox.claim(session, [SOURCE], "one", NOW, LEASE)
        assert [c.key for c in claimed] == ["5", "6", "7"]
        inbox.done(session, claimed[0].id, NOW)
    with db.session() as session:
        # The rest is leased to "one": nobody else gets it until the lease runs out.
        assert inbox.claim(session, [SOURCE], "two", NOW + LEASE / 2, LEASE) == []
        taken = inbox.claim(session, [SOURCE], "two", NOW + LEASE * 2, LEASE)
        assert [(c.key, c.attempts) for c in taken] == [("6", 2), ("7", 2)]
        for c in taken:
            inbox.done(session, c.id, NOW)
        inbox.prune(session, NOW + timedelta(seconds=1))
    with db.session() as session:
        left = session.exec(select(Delivery.key, Delivery.source)).all()
        assert left == [("5", "telegram:8")]  # only handled rows go; the other bot's waits


def test_a_chat_is_handled_one_delivery_at_a_time_in_order(db: Database) -> None:
    with db.session() as session:
        items = [("1", "a", "{}"), ("2", "a", "{}"), ("3", "b", "{}"), ("4", "a", "{}")]
        inbox.store(session, SOURCE, items, NOW)
    with db.session() as session:
        first = inbox.claim(session, [SOURCE], "one", NOW, LEASE)
        assert [c.key for c in first] == ["1", "3"]  # the head of each chat
        # Another instance finds nothing: chat a's next waits for its first to be done.
        assert inbox.claim(session, [SOURCE], "two", NOW, LEASE) == []
        inbox.done(session, first[0].id, NOW)
        assert [c.key for c in inbox.claim(session, [SOURCE], "two", NOW, LEASE)] == ["2"]


def test_a_delivery_released_for_the_database_is_taken_again_later(db: Database) -> None:
    with db.session() as session:
        (stored,) = inbox.store(session, SOURCE, [("1", "a", "{}")], NOW, claim_for=("one", LEASE))
        assert inbox.claim(session, [SOURCE], "two", NOW, LEASE) == []  # stored claimed
        inbox.release(session, stored, NOW + timedelta(seconds=2))
        assert inbox.claim(session, [SOURCE], "two", NOW + timedelta(seconds=1), LEASE) == []
        (again,) = inbox.claim(session, [SOURCE], "two", NOW + timedelta(seconds=3), LEASE)
        assert again.id == stored and not inbox.is_done(session, stored)


def test_a_moved_chat_keeps_its_team_and_digest(campaign: Talk, db: Database) -> None:
    campaign.ok("root", "/campaign use road", chat="#g")
    campaign.ok("root", "/team bind t1", chat="#g")
    campaign.ok("root", "/digest here", chat="#g")
    campaign.engine.move_chat(Ref("shell", "", "#g"), Ref("shell", "", "#sg"))
    assert "Tổ 1" in campaign.ok("lan", "/report 3 hộ", chat="#sg").text
    with db.session() as session:
        (chat,) = session.exec(select(Chat).where(Chat.key == "shell:#sg")).all()
        assert chat.team_id is not None and chat.is_group
        subscription = session.exec(select(DigestSubscription)).one()
        assert subscription.chat_id == chat.id and subscription.enabled
        assert session.exec(select(Chat).where(Chat.key == "shell:#g")).first() is None


def test_a_chat_moved_onto_one_already_seen_merges(campaign: Talk, db: Database) -> None:
    campaign.ok("root", "/campaign use road", chat="#g")
    campaign.ok("root", "/team bind t1", chat="#g")
    campaign.ok("root", "/digest here", chat="#g")
    campaign.ok("root", "/help", chat="#sg")  # someone spoke in the new chat first
    campaign.engine.move_chat(Ref("shell", "", "#g"), Ref("shell", "", "#sg"))
    campaign.engine.move_chat(Ref("shell", "", "#g"), Ref("shell", "", "#sg"))  # told twice
    assert "Tổ 1" in campaign.ok("lan", "/report 3 hộ", chat="#sg").text
    with db.session() as session:
        new = session.exec(select(Chat).where(Chat.key == "shell:#sg")).one()
        old = session.exec(select(Chat).where(Chat.key == "shell:#g")).one()
        assert (old.team_id, old.campaign_id) == (None, None)
        subscription = session.exec(select(DigestSubscription)).one()
        assert subscription.chat_id == new.id


def test_both_notices_of_a_group_upgrade_at_once_keep_its_team_and_digest(
    campaign: Talk, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram tells of an upgrade twice, in the old group and in the new supergroup, and the
    two are handled side by side. One move commits between the other's two look-ups: the
    other then finds the new key on the very row it holds, and must not take it for a second
    chat to merge into (that cleared the team binding and switched the digest off)."""
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    campaign.ok("root", "/campaign use road", chat="#g")
    campaign.ok("root", "/team bind t1", chat="#g")
    campaign.ok("root", "/digest here", chat="#g")
    old, new = Ref("shell", "", "#g"), Ref("shell", "", "#sg")
    looked_up = queries.chat_by_ref

    def the_other_moves_meanwhile(session: Session, ref: Ref) -> Chat | None:
        if ref == new:  # between this move's two look-ups
            monkeypatch.setattr(queries, "chat_by_ref", looked_up)
            campaign.engine.move_chat(old, new)
        return looked_up(session, ref)

    monkeypatch.setattr(queries, "chat_by_ref", the_other_moves_meanwhile)
    campaign.engine.move_chat(old, new)
    with db.session() as session:
        (chat,) = session.exec(select(Chat).where(Chat.key == "shell:#sg")).all()
        assert chat.team_id is not None and chat.campaign_id is not None
        subscription = session.exec(select(DigestSubscription)).one()
        assert subscription.chat_id == chat.id and subscription.enabled


def test_what_is_stored_next_in_its_chat_is_claimed_by_the_instance_that_stored_it(
    db: Database,
) -> None:
    with db.session() as session:
        inbox.store(session, SOURCE, [("1", "a", "{}")], NOW)  # waiting, for anyone
    with db.session() as session:
        items = [("2", "a", "{}"), ("3", "b", "{}"), ("4", "c", "x")]
        stored, claimed = inbox.store_and_claim(session, SOURCE, items, NOW, "one", LEASE)
        # b and c are handled at once by "one"; a's new one waits behind its first.
        assert len(stored) == 3
        assert [(c.key, c.chat, c.payload, c.attempts) for c in claimed] == [
            ("3", "b", "{}", 1),
            ("4", "c", "x", 1),
        ]
        # Stored again (a redelivery): nothing new, nothing claimed twice.
        assert inbox.store_and_claim(session, SOURCE, items, NOW, "two", LEASE) == ([], [])
    with db.session() as session:
        assert [c.key for c in inbox.claim(session, [SOURCE], "two", NOW, LEASE)] == ["1"]


def test_a_reply_written_next_for_its_target_is_claimed_by_its_writer(db: Database) -> None:
    with db.session() as session:
        first = outbox.add(session, "telegram", "telegram:5", "1", NOW, claim_for=("one", LEASE))
        second = outbox.add(session, "telegram", "telegram:5", "2", NOW, claim_for=("one", LEASE))
        other = outbox.add(session, "telegram", "telegram:6", "3", NOW, claim_for=("one", LEASE))
        assert first is not None and first.payload == "1" and first.attempts == 1
        assert second is None  # behind the first: the loop sends it once the first is sent
        assert other is not None
        assert outbox.claim(session, ["telegram"], "two", NOW, LEASE) == []
        outbox.finish(session, first.id, "sent", NOW)
        (taken,) = outbox.claim(session, ["telegram"], "two", NOW, LEASE)
        assert taken.payload == "2"


async def test_a_target_that_hangs_holds_up_its_own_replies_only(db: Database) -> None:
    """The outbox's loop claims more as soon as it has room: one chat whose platform does not
    answer keeps one of its places, and every other chat's replies go on."""
    clock = FixedClock(NOW)
    box = Outbox(db, clock, "one", poll=0.05)
    hung, sent = asyncio.Event(), []

    async def answer(target: Ref, reply: Reply, _hints: dict[str, Any]) -> None:
        if target.id == "1":
            await hung.wait()  # never set: this chat's platform hangs
        sent.append((target.id, reply.text))

    box.serve("telegram", answer)
    with db.session() as session:
        for n in range(1, 4 * BATCH):
            target = Ref("telegram", "", str(1 if n < BATCH else n))
            outbox.add(session, "telegram", target.key, wire.dumps(Reply(f"#{n}"), {}), NOW)
    await box.start()
    try:
        for _ in range(400):
            if len(sent) == 3 * BATCH:
                break
            await asyncio.sleep(0.01)
    finally:
        await box.stop()
    assert sorted(sent) == sorted((str(n), f"#{n}") for n in range(BATCH, 4 * BATCH))


async def test_a_reply_still_in_work_when_its_lease_runs_out_is_not_sent_twice(
    db: Database,
) -> None:
    """A send that outlasts its lease (the platform hung, the database was away) is claimed
    again by the loop, which must not send it a second time beside the first."""
    clock = FixedClock(NOW)
    box = Outbox(db, clock, "one", poll=0.02)
    release, sent = asyncio.Event(), []

    async def answer(target: Ref, reply: Reply, _hints: dict[str, Any]) -> None:
        sent.append(reply.text)
        await release.wait()  # the platform takes its time to answer

    box.serve("telegram", answer)
    with db.session() as session:
        outbox.add(session, "telegram", "telegram:1", wire.dumps(Reply("#1"), {}), NOW)
    await box.start()
    try:
        for _ in range(200):
            if sent:
                break
            await asyncio.sleep(0.01)
        clock.current = NOW + timedelta(minutes=10)  # every lease has run out
        await asyncio.sleep(0.2)  # the loop looks again several times meanwhile
        release.set()
        await asyncio.sleep(0.2)
    finally:
        await box.stop()
    assert sent == ["#1"]
    with db.session() as session:
        assert outbox.claim(session, ["telegram"], "two", clock.now(), LEASE) == []  # sent


async def test_replies_are_marked_sent_while_commands_fill_the_threads(
    db: Database,
) -> None:
    """In a burst the loop's shared threads are all running commands, with more queued. The
    outbox's sent marks must not queue behind them: a reply's place is held until its mark is
    written, so they stalled every reply (~0.7 s, three times a burst)."""
    clock = FixedClock(NOW)
    box = Outbox(db, clock, "one", poll=0.05)
    box.serve("telegram", lambda _target, _reply, _hints: asyncio.sleep(0))
    await box.start()
    commands_done = threading.Event()
    loop = asyncio.get_running_loop()
    # Busy commands: more than the shared executor has threads (at most 32).
    commands = [loop.run_in_executor(None, commands_done.wait, 5) for _ in range(40)]
    with db.session() as session:  # replies written by commands, claimed as they commit
        for n in range(3):
            box.then(Ref("telegram", "", str(n)), {})(session, Reply(f"#{n}"))
    try:
        for _ in range(300):
            with db.session() as session:
                unsent = list(
                    session.exec(select(Outgoing.id).where(col(Outgoing.sent_at).is_(None)))
                )
            if not unsent:
                break
            await asyncio.sleep(0.01)
        assert unsent == [], "the sent marks waited for the commands"
    finally:
        commands_done.set()
        await asyncio.gather(*commands)
        await box.stop()


def test_two_instances_storing_one_chat_at_once_claim_one_of_its_messages(db: Database) -> None:
    """Two transactions store a message of the same chat at once (two instances behind a
    balancer): the second waits for the first, sees its message, and leaves its own behind it,
    so the chat is still handled one message at a time. (SQLite has one writer at a time.)"""
    if db.is_sqlite:
        pytest.skip("SQLite serialises writers; the race is PostgreSQL's")
    first = db.engine.connect()
    try:
        with Session(first) as session:
            _, mine = inbox.store_and_claim(session, SOURCE, [("1", "a", "{}")], NOW, "a", LEASE)
            assert [c.key for c in mine] == ["1"]
            session.flush()
            with ThreadPoolExecutor(1) as pool:
                other = pool.submit(store_in_own_session, db, [("2", "a", "{}"), ("3", "b", "{}")])
                time.sleep(0.3)
                assert not other.done()  # it waits for the first transaction's chat
                session.commit()
                assert [c.key for c in other.result(timeout=10)] == ["3"]
    finally:
        first.close()


def store_in_own_session(db: Database, items: list[tuple[str, str, str]]) -> list[inbox.Claimed]:
    with db.session() as session:
        return inbox.store_and_claim(session, SOURCE, items, NOW, "b", LEASE)[1]


BACKLOG = 2_000


def _rows(session: Session, kind: str, chat: str, count: int) -> None:
    if kind == "inbox":
        inbox.store(session, SOURCE, [(f"{chat}{n}", chat, "{}") for n in range(count)], NOW)
    else:
        for _ in range(count):
            outbox.add(session, "telegram", chat, "{}", NOW)


def _claim(session: Session, kind: str) -> list[Any]:
    if kind == "inbox":
        return inbox.claim(session, [SOURCE], "one", NOW, LEASE)
    return outbox.claim(session, ["telegram"], "one", NOW, LEASE)


def _first_statement(db: Database, session: Session, kind: str) -> tuple[str, Any]:
    """The claim's candidate query, as sent, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def note(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert len(_claim(session, kind)) == 100  # each chat's first row, up to the limit
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return next((s, p) for s, p in seen if s.lstrip().startswith("SELECT"))


@pytest.mark.parametrize("kind", ["inbox", "outbox"])
def test_a_claim_behind_one_chats_burst_reads_each_row_once(db: Database, kind: str) -> None:
    """A burst leaves thousands of rows open, many in one group chat. Finding each chat's next
    one must cost a look-up per candidate, whatever the planner believes: statistics taken
    while nothing was open (the usual state) made PostgreSQL compare open rows with each
    other, up to 0.6 s a claim."""
    table, closed = ("delivery", "done_at") if kind == "inbox" else ("outgoing", "sent_at")
    with db.session() as session:  # a day's rows, all handled, as the statistics saw them
        _rows(session, kind, "earlier", BACKLOG)
        session.connection().execute(text(f"UPDATE {table} SET {closed} = :now"), {"now": NOW})
    with db.session() as session:
        if not db.is_sqlite:
            session.connection().execute(text(f"ANALYZE {table}"))
        # Then a burst: half of it into one group chat, the rest over 100 private chats.
        _rows(session, kind, "group", BACKLOG // 2)
        for n in range(100):
            _rows(session, kind, f"private{n}", BACKLOG // 200)
    with db.session() as session:
        statement, parameters = _first_statement(db, session, kind)
        connection = session.connection()
        if db.is_sqlite:
            plan = [
                row[-1]
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            ]
            # The chat's first open row is looked up on the index of open rows, not scanned.
            index = "ix_delivery_open_by_chat" if kind == "inbox" else "ix_outgoing_open_by_target"
            assert any(step.startswith("SEARCH") and index in step for step in plan), plan
            assert not [step for step in plan if step.startswith("SCAN") and "_1" in step], plan
        else:
            (explained,) = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement, parameters
            ).one()
            # Pages read: ~4 per open row (~78 before: 157,000).
            assert explained[0]["Plan"]["Shared Hit Blocks"] < 10 * BACKLOG
        session.rollback()
