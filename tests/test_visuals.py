"""Charts in what users receive: /progress and the digest carry PNGs whose figures hold the
campaign's own metrics, teams and units in the reader's language and number formats; the
`tiendo digest` command and the shell write them to files. Structure, not pixels."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from typer.testing import CliRunner

from bot import app as wiring
from bot.cli import cli
from bot.config import load_config
from bot.shell import Shell
from handlers.language.i18n import Catalogs
from handlers.read import digest, visuals
from handlers.read.forecast import Forecast
from storage import queries
from storage.db import Database
from storage.models import Campaign
from tests.conftest import SETUP, Chat

PNG = b"\x89PNG"
TODAY = date(2025, 3, 10)  # the fixtures' clock, in Hà Nội
DEADLINE = date(2025, 6, 30)


@pytest.fixture
def reported(campaign: Chat) -> Chat:
    """15 households and 1,3 tỷ ₫ in the last week, team targets for t1 and t2, and a third
    team t3 without a target or a report."""
    campaign.ok("root", '/team add t3 "Tổ 3" unit=ap-2')
    campaign.ok("root", "/team target t1 households 50")
    campaign.ok("root", "/team target t2 households 20")
    campaign.ok("lan", "/report 12 hộ 2tr5")
    campaign.ok("minh", "/report 3 hộ 1,3 tỷ date=hôm qua")
    return campaign


def collect(db: Database, lang: str = "vi") -> tuple[digest.DigestData, list[visuals.Chart]]:
    with db.session() as session:
        road = queries.campaign_by_code(session, "road")
        assert road is not None
        data = digest.collect(session, road, TODAY)
        return data, digest.charts(session, Catalogs().translator(lang), data)


def names(fig: Figure) -> list[str]:
    (ax,) = fig.axes
    return [label.get_text() for label in ax.get_yticklabels()]


def texts(fig: Figure) -> list[str]:
    fig.draw_without_rendering()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def lines(fig: Figure, style: str) -> list[Line2D]:
    return [x for x in fig.axes[0].get_lines() if x.get_linestyle() == style]


@pytest.mark.parametrize(
    ("lang", "labels", "money", "households"),
    [
        (
            "vi",
            ["Hộ đã vận động", "Đường đã làm", "Tiền đóng góp"],
            "1,3 tỷ ₫ / 2 tỷ ₫ (65,1%) — đúng tiến độ",
            "15 hộ / 500 hộ (3%) — chậm tiến độ",
        ),
        (
            "en",
            ["Households reached", "Road built", "Money raised"],
            "1.3 billion VND / 2 billion VND (65.1%) — on track",
            "15 households / 500 households (3%) — behind",
        ),
    ],
    ids=["vi", "en"],
)
def test_the_progress_chart_has_a_bar_per_metric_in_the_readers_words(
    reported: Chat, db: Database, lang: str, labels: list[str], money: str, households: str
) -> None:
    _, (progress, *_) = collect(db, lang)
    assert names(progress.figure) == labels
    assert len(progress.figure.axes[0].patches) == 3
    shown = texts(progress.figure)
    assert money in shown
    # 15 a week against 485 over the 112 working days left: behind, and the bar says so.
    assert households in shown
    assert progress.name == "progress-road-2025-03-10.png"
    assert (
        progress.caption
        == {
            "vi": "Đường Bình Sơn Đông: tiến độ ngày 10/03/2025",
            "en": "Đường Bình Sơn Đông: progress on 10 Mar 2025",
        }[lang]
    )


def test_the_trend_follows_the_main_metric_to_the_deadline(reported: Chat, db: Database) -> None:
    data, (_, trend, _) = collect(db)
    fig = trend.figure
    assert trend.name == "trend-road-households-2025-03-10.png"
    done, _today = lines(fig, "-")
    assert done.get_ydata()[-1] == 15 and len(done.get_ydata()) == 38  # 1 Feb to 10 Mar
    ((target,), (pace,)) = lines(fig, "--"), lines(fig, "-.")
    assert list(target.get_ydata()) == [500, 500]
    assert list(pace.get_xdata()) == [date(2025, 2, 1).toordinal(), DEADLINE.toordinal()]
    # 15 a week is far short of 500 by the deadline: the projection stops there, where that
    # pace leads (15 + 15/7 a day over 112 working days).
    (projection,) = lines(fig, ":")
    assert list(projection.get_xdata()) == [TODAY.toordinal(), DEADLINE.toordinal()]
    assert list(projection.get_ydata()) == pytest.approx([15, 255])
    fig.draw_without_rendering()
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert ticks == ["01/02", "10/03", "30/06"]
    assert "Mục tiêu" in texts(fig) and "500 hộ" in texts(fig)
    assert data.metrics[0].forecast.at_deadline == pytest.approx(255)


def forecast(**changes: object) -> Forecast:
    base: dict[str, object] = {
        "today": 5.0,
        "total": 40.0,
        "target": 100.0,
        "ratio": 0.4,
        "rate": 5.0,
        "required": 3.0,
        "projected": date(2025, 3, 24),
        "status": "on_track",
        "at_deadline": 120.0,
    }
    return Forecast(**(base | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("deadline", "changes", "expected"),
    [
        # Met before the deadline: the line ends on the target that day.
        (DEADLINE, {}, [(TODAY, 40), (date(2025, 3, 24), 100)]),
        (None, {}, [(TODAY, 40), (date(2025, 3, 24), 100)]),
        # Met after it: the line ends at the deadline, where the pace leads.
        (date(2025, 3, 20), {"at_deadline": 80.0}, [(TODAY, 40), (date(2025, 3, 20), 80)]),
        # No target, but a deadline: still where the pace leads.
        (DEADLINE, {"target": None, "projected": None}, [(TODAY, 40), (DEADLINE, 120)]),
        (None, {"target": None, "projected": None, "at_deadline": None}, []),
        (DEADLINE, {"rate": 0.0, "projected": None}, []),  # no pace, no projection
        (DEADLINE, {"status": "done", "projected": None}, []),
        (date(2025, 3, 1), {"projected": None, "at_deadline": 40.0}, []),  # deadline passed
    ],
)
def test_the_projection_runs_to_the_target_or_the_deadline(
    deadline: date | None, changes: dict[str, object], expected: list[tuple[date, float]]
) -> None:
    campaign = Campaign(code="c", name="C", start_date=date(2025, 3, 1), deadline=deadline)
    assert visuals._projection(campaign, TODAY, forecast(**changes)) == expected


def test_the_breakdown_keeps_the_top_teams_and_groups_the_others(
    reported: Chat, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, (_, _, teams) = collect(db)
    assert teams.name == "by-team-road-households-2025-03-10.png"
    assert names(teams.figure) == ["Tổ 1", "Tổ 2", "Tổ 3"]  # 24 %, 15 %, no target
    monkeypatch.setattr(visuals, "TOP", 1)
    _, (_, _, teams) = collect(db)
    assert names(teams.figure) == ["Tổ 1", "Các tổ khác (2)"]
    # The others' share counts only the teams with a target: 3 of t2's 20.
    assert {"12 hộ (24%)", "3 hộ (15%)"} <= set(texts(teams.figure))


def test_the_breakdown_by_unit_splits_the_tree_where_it_branches(
    reported: Chat, db: Database
) -> None:
    with db.session() as session:
        road = queries.campaign_by_code(session, "road")
        assert road is not None and road.id is not None
        households = queries.metric_by_key(session, road.id, "households")
        assert households is not None
        units = visuals.breakdown_chart(
            session, Catalogs().translator("vi"), road, TODAY, households, "unit"
        )
    # Xã Bình Sơn is the only root, so its villages are the bars; targets roll up from teams.
    assert names(units.figure) == ["Ấp 1", "Ấp 2"]
    assert {"12 hộ (24%)", "3 hộ (15%)"} <= set(texts(units.figure))


@pytest.mark.parametrize(
    ("parents", "level"),
    [
        ({1: None, 2: 1, 3: 1, 4: 2}, [2, 3]),
        ({1: None, 2: 1, 3: 2, 4: 2}, [3, 4]),  # province → commune → villages
        ({1: None, 2: None, 3: 1}, [1, 2]),
        ({1: None}, [1]),
        ({}, []),
    ],
)
def test_top_units(parents: dict[int, int | None], level: list[int]) -> None:
    assert visuals.top_units(parents) == level


def test_progress_replies_with_its_chart(reported: Chat) -> None:
    reply = reported.ok("hoa", "/progress", lang="vi")
    (chart,) = reply.images
    assert chart.name == "progress-road-2025-03-10.png" and chart.content.startswith(PNG)
    assert chart.caption == "Đường Bình Sơn Đông: tiến độ ngày 10/03/2025"
    assert "Hộ đã vận động: hôm nay 12 hộ" in reply.text  # the text is still there
    by_unit = reported.ok("hoa", "/progress households by=unit")
    assert [image.name for image in by_unit.images] == [
        "progress-road-2025-03-10.png",
        "by-unit-road-households-2025-03-10.png",
    ]
    assert all(image.content.startswith(PNG) for image in by_unit.images)


def test_the_digest_carries_progress_trend_and_breakdown(reported: Chat) -> None:
    reply = reported.ok("hoa", "/digest now", lang="vi")
    assert reply.text.startswith("📊 Tổng hợp ngày 10/03/2025")
    assert [(image.name, image.content[:4]) for image in reply.images] == [
        ("progress-road-2025-03-10.png", PNG),
        ("trend-road-households-2025-03-10.png", PNG),
        ("by-team-road-households-2025-03-10.png", PNG),
    ]
    # Captions name the campaign: forwarded alone, an image still says what it is.
    assert all("Đường Bình Sơn Đông" in image.caption for image in reply.images)


def test_a_campaign_without_metrics_gets_a_digest_without_charts(chat: Chat) -> None:
    chat.ok("root", '/campaign new empty "Trống"')
    reply = chat.ok("root", "/digest now")
    assert reply.images == ()


def test_the_shell_saves_the_chart_and_prints_its_path(reported: Chat, tmp_path: Path) -> None:
    lines: Iterator[str] = iter(["/progress"])
    out = io.StringIO()
    Shell(reported.engine, tmp_path / "files", out, lambda _: next(lines, None), user="hoa").run()
    saved = tmp_path / "files" / "progress-road-2025-03-10.png"
    assert f"🖼  {saved}  Đường Bình Sơn Đông: tiến độ ngày 10/03/2025" in out.getvalue()
    assert saved.read_bytes().startswith(PNG)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A fresh SQLite database, migrated as the CLI does, with the test campaign in it."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\nurl = "{url}"\n', "utf-8")
    app = wiring.build(load_config(path, environ={}), superadmins=("shell:root",))
    chat = Chat(app.engine)
    for command in SETUP:
        chat.ok("root", command)
    app.db.dispose()
    return path


def test_tiendo_digest_writes_the_text_and_charts(config_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "digest"
    result = CliRunner().invoke(
        cli,
        [
            *("digest", "--campaign", "road", "--date", "2025-03-10", "--lang", "en"),
            *("--out", str(out), "--config", str(config_file)),
        ],
    )
    assert result.exit_code == 0, result.output
    written = [Path(line) for line in result.output.splitlines()]
    assert [path.name for path in written] == [
        "digest-road-2025-03-10.txt",
        "progress-road-2025-03-10.png",
        "trend-road-households-2025-03-10.png",
        "by-team-road-households-2025-03-10.png",
    ]
    assert all(path.parent == out for path in written)
    assert written[0].read_text("utf-8").startswith("📊 Daily digest 10 Mar 2025 — Đường")
    assert all(path.read_bytes().startswith(PNG) for path in written[1:])


def test_tiendo_digest_refuses_an_unknown_campaign_and_a_bad_date(
    config_file: Path, tmp_path: Path
) -> None:
    base = ["digest", "--out", str(tmp_path / "x"), "--config", str(config_file)]
    unknown = CliRunner().invoke(cli, [*base, "--campaign", "nope"])
    assert unknown.exit_code == 1 and "Không có chiến dịch “nope”" in unknown.output
    bad = CliRunner().invoke(cli, [*base, "--campaign", "road", "--date", "10/03/2025"])
    assert bad.exit_code == 2
    assert not (tmp_path / "x").exists()
