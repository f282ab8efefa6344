"""A reporter in two campaigns: errors about words that are no metric name the campaign in use,
its words and how to switch; welcomes, reminders and examples are in each campaign's own words,
so a campaign that counts no `hộ` never suggests `12 hộ`."""

from __future__ import annotations

import pytest

from handlers.clock import FixedClock
from storage.db import Database
from tests.conftest import Chat
from tests.test_digest import FakeSender, at, services


@pytest.fixture
def two(campaign: Chat) -> Chat:
    """Besides `road`, a campaign `nha` that counts houses (`nhà`); lan reports in both, and
    the group #nha uses nha."""
    for line in (
        '/campaign new nha "Xây nhà tình nghĩa" start=2025-02-01',
        '/metric add houses "Nhà đã xây" unit=house aliases=nhà en="Houses built"',
        '/team add n1 "Tổ xây 1"',
    ):
        campaign.ok("root", line, chat="@root-nha")
    campaign.ok("root", "/campaign use nha", chat="#nha")
    return campaign


def test_the_join_welcome_suggests_a_report_in_the_campaigns_words(two: Chat) -> None:
    code = two.ok("root", "/invite n1", chat="@root-nha").text.split()[2].rstrip(":")
    welcome = two.ok("lan", f"/join {code}").text
    assert "Try: /report 12 nhà" in welcome and "hộ" not in welcome
    road = two.ok("root", "/invite t1").text.split()[2].rstrip(":")
    assert "Try: /report 12 hộ 350m đường" in two.ok("newbie", f"/join {road}").text


def test_a_word_of_the_other_campaign_says_how_to_switch(two: Chat) -> None:
    two.ok("root", "/role @lan reporter team=n1", chat="@root-nha")
    reply = two.error("lan", "/report 12 hộ", chat="#nha", lang="vi")
    assert reply.text == (
        "⚠️ “hộ” không phải chỉ tiêu của chiến dịch nha (chiến dịch cuộc trò chuyện này đang "
        "dùng) mà là của chiến dịch road: chuyển sang bằng /campaign use road. Các chỉ tiêu của "
        "nha: houses (nhà).\nVí dụ: /campaign use road"
    )
    unknown = two.error("lan", "/report 3 gà", chat="#nha").text
    assert "“gà” is not a metric of campaign nha, which this chat uses" in unknown
    assert "For another of your campaigns (road): /campaign use <code>." in unknown
    assert unknown.endswith("Example: /report 12 nhà")
    # In one campaign only: the campaign is named, nothing to switch to.
    alone = two.error("minh", "/report 3 gà").text
    assert "“gà” is not a metric of campaign road. Its metrics:" in alone
    assert "/campaign use" not in alone
    assert two.ok("lan", "/report 2 nhà", chat="#nha").text.startswith("✅")


def test_errors_and_welcomes_use_the_campaigns_words(two: Chat) -> None:
    two.ok("root", "/role @lan reporter team=n1", chat="@root-nha")
    for line in ("/report 2 nhà hôm qua hôm nay", "/report 2 nhà 3 nhà", "/report note=x"):
        reply = two.error("lan", line, chat="#nha")
        assert "hộ" not in reply.text and "Example: /report 12 nhà" in reply.text, reply.text
    assert "Example: /report houses=12" in two.error("lan", "/report 1,5 nhà", chat="#nha").text
    assert "Report with /report 12 nhà." in two.ok("lan", "/start", chat="#nha").text
    assert "Report with /report 12 hộ 350m đường." in two.ok("minh", "/start").text
    # In several campaigns and none chosen here: no example to guess; a newcomer: how to join.
    several = two.ok("lan", "/start", chat="@lan-new").text
    assert "/report" not in several and several.endswith("See all commands with /help.")
    assert "Join a campaign with /join <code>." in two.ok("nobody", "/start").text


async def test_the_reminder_suggests_a_report_in_the_campaigns_words(
    two: Chat, db: Database, clock: FixedClock
) -> None:
    sender = FakeSender()
    two.ok("root", "/remind at=17:00", chat="@root-nha")
    two.ok("root", "/team bind n1", chat="#nha")
    clock.current = at(17, 0)
    await services(db, clock, sender).reminders.tick()
    (text,) = [reply.text for key, reply in sender.sent if key == "shell:#nha"]
    assert text.endswith("e.g. /report 12 nhà")
