"""Administration through the engine: campaigns, metrics, the unit tree, invites and roles."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from handlers.clock import FixedClock
from storage.db import Database
from storage.models import AuditEvent, Campaign, Membership, Metric
from tests.conftest import Chat


def test_campaign_settings_and_info(campaign: Chat, db: Database) -> None:
    info = campaign.ok("an", "/campaign set restdays=sun,t7,2025-04-30 backdate=3 tz=Asia/Bangkok")
    assert "Rest days: sat, sun, 30 Apr 2025" in info.text
    assert "Back-dating: 3 days" in info.text and "Asia/Bangkok" in info.text
    assert "too far back" in campaign.error("lan", "/report 1 hộ date=06/03").text
    assert "is not a time zone" in campaign.error("an", "/campaign set tz=Mars/Base").text
    assert "before the start" in campaign.error("an", "/campaign set deadline=2025-01-01").text
    assert "Unknown option" in campaign.error("an", "/campaign set colour=red").text
    with db.session() as session:
        (road,) = session.exec(select(Campaign).where(Campaign.code == "road")).all()
        assert road.rest_weekdays == [6, 7] and road.backdate_days == 3
    assert "already exists" in campaign.error("root", '/campaign new road "Again"').text
    assert "not a valid code" in campaign.error("root", '/campaign new "Bad Code" "X"').text


def test_campaign_choice_across_several_campaigns(campaign: Chat) -> None:
    campaign.ok("root", '/campaign new other "Khác"', chat="@root2")
    code = campaign.ok("root", "/invite leader", chat="@root2").text.split()[2].rstrip(":")
    campaign.ok("lan", f"/join {code}", chat="@lan-phone2")
    # lan's private chat stays on road; a new chat with two campaigns asks which one.
    campaign.ok("lan", "/report 1 hộ")
    reply = campaign.error("lan", "/progress", chat="@lan-phone3")
    assert "several campaigns (other, road)" in reply.text and "/campaign use" in reply.text
    campaign.ok("lan", "/campaign use other", chat="@lan-phone3")
    assert "other has no metrics" in campaign.ok("lan", "/progress", chat="@lan-phone3").text
    listing = campaign.ok("lan", "/campaign list").text
    assert "other" in listing and "road" in listing and "used in this chat" in listing


def test_metric_words_must_not_clash(campaign: Chat, db: Database) -> None:
    assert (
        "already a word"
        in campaign.error("an", '/metric add homes "Nhà" unit=house aliases=ho').text
    )
    assert (
        "already means something"
        in campaign.error("an", '/metric add homes "Nhà" unit=house aliases=tr').text
    )
    assert "Say the unit" in campaign.error("an", '/metric add homes "Nhà"').text
    campaign.ok("an", '/metric add homes "Nhà" unit=house target=20 aliases=nhà')
    campaign.ok("lan", "/report 2 nhà")
    campaign.ok("an", "/metric remove homes")
    assert "nhà" in campaign.error("lan", "/report 2 nhà").text
    with db.session() as session:
        homes = session.exec(select(Metric).where(Metric.key == "homes")).one()
        assert not homes.active  # kept for the reports that used it


def test_units_move_and_rollups_follow_the_current_tree(campaign: Chat) -> None:
    campaign.ok("lan", "/report 10 hộ")
    campaign.ok("minh", "/report 5 hộ")
    campaign.ok("an", '/unit add xa-moi "Xã Mới"')
    assert (
        "itself or one of its sub-units"
        in campaign.error("an", "/unit move binh-son parent=ap-1").text
    )
    campaign.ok("an", "/unit move ap-2 parent=xa-moi")
    campaign.ok("an", '/unit rename binh-son "Xã Bình Sơn (cũ)"')
    text = campaign.ok("hoa", "/progress households by=unit").text
    assert "Xã Bình Sơn (cũ): 10" in text and "Xã Mới: 5" in text and "Xã Mới / Ấp 2: 5" in text
    tree = campaign.ok("an", "/unit list").text
    assert "• xa-moi — Xã Mới\n  • ap-2 — Ấp 2" in tree


def test_invites_expire_and_run_out(campaign: Chat, clock: FixedClock, db: Database) -> None:
    reply = campaign.ok("an", "/invite t1 uses=1 days=2")
    code = reply.text.split()[2].rstrip(":")
    assert f"/join {code}" in reply.text
    campaign.ok("tuan", f"/join {code}")
    assert "used up or expired" in campaign.error("vy", f"/join {code}").text
    code = campaign.ok("an", "/invite t2 days=1").text.split()[2].rstrip(":")
    clock.advance(timedelta(days=2))
    assert "used up or expired" in campaign.error("vy", f"/start {code}").text
    assert "1 to 90" in campaign.error("an", "/invite t1 days=365").text


def test_roles_are_granted_and_revoked(campaign: Chat, db: Database) -> None:
    assert "cannot tell who" in campaign.error("an", "/role telegram:@ghost leader").text
    assert "needs a team" in campaign.error("an", "/role @hoa reporter").text
    campaign.ok("an", "/role @hoa reporter team=t2")
    campaign.ok("hoa", "/report 1 hộ")
    campaign.ok("an", "/role revoke @minh")
    assert campaign.error("minh", "/report 1 hộ").text.startswith("⛔")
    assert "cannot revoke your own" in campaign.error("an", "/role revoke @an").text
    with db.session() as session:
        roles = {m.role for m in session.exec(select(Membership)).all()}
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert roles == {"admin", "reporter"}  # hoa went from leader to reporter
    assert {"role.set", "role.revoke", "invite.use", "metric.add"} <= set(actions)
    audit = campaign.ok("an", "/audit 3").text
    assert "removed minh from the campaign" in audit and audit.count("\n•") == 3


def test_everyone_commands(campaign: Chat) -> None:
    help_text = campaign.ok("lan", "/help").text
    assert "/report" in help_text and "/invite" not in help_text  # reporters see their own
    assert "/invite" in campaign.ok("an", "/help").text
    assert "key=value" in campaign.ok("lan", "/help report").text
    me = campaign.ok("lan", "/me").text
    assert "road: reporter; teams: t1" in me
    assert "tiếng Việt" in campaign.ok("lan", "/lang vi", lang="en").text  # in the new language
    assert "Đã ghi báo cáo" in campaign.ok("lan", "/report 1 hộ", lang="en").text
    assert "Choose vi or en" in campaign.error("minh", "/lang fr").text
    assert "Unknown command /frob" in campaign.error("minh", "/frob").text
    assert "needs one of: new, list, use" in campaign.error("an", "/campaign").text
