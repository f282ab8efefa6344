"""Storage behind the adapters: the inbox of delivered updates, and chats that change id."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from handlers.values import Ref
from storage import inbox
from storage.db import Database
from storage.models import Chat, Delivery, DigestSubscription
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
