"""/role for people who have not written to the bot yet (the role waits for their first
contact), and who may choose a chat's campaign with /campaign use (SPEC §3)."""

from __future__ import annotations

from sqlmodel import select

from handlers.values import Ref, Reply, Request
from storage.db import Database
from storage.models import Membership, PendingRole, TeamMember
from tests.conftest import Chat


def first_contact(chat: Chat, key: str, line: str = "/me", lang: str = "en") -> Reply:
    """A message from a platform user the bot has never seen, in their private chat."""
    user = Ref.parse(key)
    command, _, args = line[1:].partition(" ")
    return chat.engine.handle(Request(user, user, command, args, user_name="Chị Ba", language=lang))


def test_a_role_waits_for_someone_not_met_yet_and_applies_on_first_contact(
    campaign: Chat, db: Database
) -> None:
    reply = campaign.ok("an", "/role telegram:424242 leader")
    assert reply.text == (
        "telegram:424242 will be leader in road: this applies when they first message the bot."
    )
    vi = campaign.ok("an", "/role zalo:8f3a2b reporter team=t1", lang="vi")
    assert vi.text == (
        "zalo:8f3a2b sẽ là tổ viên trong road: sẽ áp dụng khi người này nhắn cho bot lần đầu."
    )
    with db.session() as session:
        waiting = {(p.key, p.role) for p in session.exec(select(PendingRole))}
    assert waiting == {("telegram:424242", "leader"), ("zalo:8f3a2b", "reporter")}
    me = first_contact(campaign, "telegram:424242").text
    assert "• road: leader; teams: —" in me
    assert "• road: tổ viên; tổ: t1" in first_contact(campaign, "zalo:8f3a2b", lang="vi").text
    assert "Report #1 recorded" in first_contact(campaign, "zalo:8f3a2b", "/report 3 hộ").text
    with db.session() as session:
        assert session.exec(select(PendingRole)).all() == []  # applied once, then gone
        roles = {m.role for m in session.exec(select(Membership))}
    assert "leader" in roles
    audit = campaign.ok("an", "/audit 2").text
    # Named as the bot knows them now.
    assert "gave the role reporter of Tổ 1 (t1) to Chị Ba, waiting for their first" in audit


def test_a_waiting_reporter_needs_a_team_and_gathers_teams(campaign: Chat, db: Database) -> None:
    assert "needs a team" in campaign.error("an", "/role slack:T01:U0BA reporter").text
    campaign.ok("an", "/role slack:T01:U0BA reporter team=t1")
    campaign.ok("an", "/role slack:T01:U0BA reporter team=t2")
    campaign.ok("an", "/role slack:T01:U0BA reporter")  # has teams waiting: enough
    assert "teams: t1, t2" in first_contact(campaign, "slack:T01:U0BA").text
    with db.session() as session:
        assert len(session.exec(select(TeamMember)).all()) == 2 + 2  # lan, minh and the new one


def test_revoking_a_waiting_role_withdraws_it(campaign: Chat, db: Database) -> None:
    campaign.ok("an", "/role telegram:777 admin")
    reply = campaign.ok("an", "/role revoke telegram:777")
    assert reply.text == "The role waiting for telegram:777 in road is withdrawn."
    assert "has no role in road" in campaign.error("an", "/role revoke telegram:777").text
    assert "not in any campaign" in first_contact(campaign, "telegram:777").text
    assert "withdrew the role admin waiting for Chị Ba" in campaign.ok("an", "/audit").text


def test_only_ids_a_platform_can_send_may_wait(campaign: Chat) -> None:
    for user in ("telegram:@bob", "slack:U0BA", "telegram:1:2", "fax:42", "zalo:"):
        reply = campaign.error("an", f"/role {user} leader")
        assert "cannot tell who" in reply.text and "telegram:123456" in reply.text, user
    # Someone already met is found whatever the platform's id looks like.
    assert "minh (shell:minh) is now leader" in campaign.ok("an", "/role @minh leader").text


def test_campaign_use_in_private_any_member_in_a_group_its_admins(campaign: Chat) -> None:
    campaign.ok("root", '/campaign new nha "Xây nhà tình nghĩa"', chat="@root-nha")
    campaign.ok("root", '/team add n1 "Tổ nhà 1"', chat="@root-nha")
    campaign.ok("root", "/role @lan reporter team=n1", chat="@root-nha")
    campaign.ok("root", "/role @an leader", chat="@root-nha")
    # A private chat: any member of the campaign.
    assert "now uses campaign nha" in campaign.ok("lan", "/campaign use nha").text
    assert "already uses campaign nha" in campaign.ok("lan", "/campaign use nha").text
    # A group: only admins of the campaign chosen, or of the campaign the group uses now.
    refused = campaign.error("lan", "/campaign use road", chat="#doi")
    assert refused.text.startswith("⛔") and "only administrators of road" in refused.text
    campaign.ok("an", "/campaign use road", chat="#doi")  # an: admin of road
    assert campaign.error("lan", "/campaign use nha", chat="#doi").text.startswith("⛔")
    campaign.ok("an", "/campaign use nha", chat="#doi")  # a leader of nha, admin of road
    assert campaign.error("lan", "/campaign use road", chat="#doi").text.startswith("⛔")
    assert "already uses" in campaign.ok("lan", "/campaign use nha", chat="#doi").text
    # A campaign one is not in reads exactly as one that does not exist.
    hidden = campaign.error("minh", "/campaign use nha").text
    missing = campaign.error("minh", "/campaign use khong-co").text
    assert hidden.replace("nha", "X") == missing.replace("khong-co", "X")
