"""Storage behind the adapters: the inbox of delivered updates, and chats that change id."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from handlers.values import Ref
from storage import inbox
from storage.db import Database
from storage.models import Chat, DigestSubscription, InboundUpdate
from tests.conftest import NOW
from tests.conftest import Chat as Talk

SOURCE = "telegram:7"


def test_a_redelivered_update_is_stored_once_and_processed_once(db: Database) -> None:
    with db.session() as session:
        assert inbox.store(session, SOURCE, [(5, "{}"), (6, "{}")], NOW) == 2
    with db.session() as session:
        # Telegram sends 6 again with 7; another bot's update 5 is its own.
        assert inbox.store(session, SOURCE, [(6, "{}"), (7, "{}")], NOW) == 1
        assert inbox.store(session, "telegram:8", [(5, "{}")], NOW) == 1
    with db.session() as session:
        waiting = inbox.pending(session, SOURCE)
        assert [row.update_id for row in waiting] == [5, 6, 7]
        assert waiting[0].id is not None
        inbox.mark_processed(session, waiting[0].id, NOW)
    with db.session() as session:
        assert [row.update_id for row in inbox.pending(session, SOURCE)] == [6, 7]
        inbox.prune(session, NOW + timedelta(seconds=1))
    with db.session() as session:
        left = session.exec(select(InboundUpdate.update_id)).all()
        assert sorted(left) == [5, 6, 7]  # only processed rows go; 5 of the other bot waits


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
