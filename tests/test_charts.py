"""Charts: PNG out, and the figures behind them hold what a leader needs to read on a phone:
one bar per metric or team, the caller's words and number formats, lines told apart by dash
pattern, Vietnamese that renders, and nothing that breaks on empty or odd data."""

from __future__ import annotations

import io
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

from charts import (
    MetricBar,
    Share,
    Status,
    Trend,
    breakdown_chart,
    breakdown_figure,
    progress_chart,
    progress_figure,
    render,
    trend_chart,
    trend_figure,
)
from charts.style import GRID, MUTED, OKABE_ITO, TRACK

PNG = b"\x89PNG"
VIETNAMESE = "Hộ đã vận động — Xã Bình Sơn, Ấp Phước Hòa"
LEGEND = {
    "done": "Đã làm",
    "target": "Mục tiêu",
    "pace": "Tiến độ cần",
    "projection": "Dự báo",
    "today": "Hôm nay",
}
START = date(2025, 3, 1)
DEADLINE = date(2025, 4, 30)


def households(value: float) -> str:
    """Marks its output, so a test can tell the caller's format from anything else."""
    return f"{value:,.0f}".replace(",", ".") + " hộ"


def money(value: float) -> str:
    return f"{value / 1e9:.1f}".replace(".", ",") + " tỷ ₫"


def percent(ratio: float) -> str:
    return f"{ratio * 100:.0f}%"


def tick(day: date) -> str:
    return f"ngày {day:%d/%m}"


def metric(label: str, done: float, target: float | None, status: Status = "on_track") -> MetricBar:
    return MetricBar(label, done, target, status, f"«{status}»", households)


def trend(
    days: int = 10,
    *,
    per_day: float = 50,
    target: float | None = 2000,
    deadline: date | None = DEADLINE,
    projection: bool = True,
) -> Trend:
    history = [START + timedelta(days=n) for n in range(days)]
    totals = [per_day * (n + 1) for n in range(days)]
    ahead = [(history[-1], totals[-1]), (DEADLINE, 1800.0)] if projection else []
    return Trend("Hộ đã vận động", history, totals, target, deadline, ahead, households)


def axes(fig: Figure) -> Axes:
    (ax,) = fig.axes
    return ax


def names(fig: Figure) -> list[str]:
    return [label.get_text() for label in axes(fig).get_yticklabels()]


def texts(fig: Figure) -> list[str]:
    fig.draw_without_rendering()
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def lines(fig: Figure, style: str) -> list[Line2D]:
    return [line for line in axes(fig).get_lines() if line.get_linestyle() == style]


# --- progress -------------------------------------------------------------------------------


def test_progress_has_one_bar_per_metric_with_its_label_and_status() -> None:
    bars = [
        metric("Hộ đã vận động", 1234, 2000),
        metric("Đường bê tông", 300, 1200, "behind"),
        metric("Cây xanh", 6000, 4000, "done"),
        metric("Ngày công", 830, None, "no_target"),
    ]
    fig = progress_figure(bars, title="Tiến độ", percent_fmt=percent)
    ax = axes(fig)

    assert names(fig) == ["Hộ đã vận động", "Đường bê tông", "Cây xanh", "Ngày công"]
    assert len(ax.patches) == 4
    widths = [patch.get_width() for patch in ax.patches]
    assert widths[:2] == pytest.approx([0.617, 0.25])
    assert widths[2] == pytest.approx(1.2)  # 150 % is drawn capped; the label has the truth
    assert widths[3] == 0
    shown = texts(fig)
    assert "1.234 hộ / 2.000 hộ (62%) — «on_track»" in shown
    assert "6.000 hộ / 4.000 hộ (150%) — «done»" in shown
    assert "830 hộ — «no_target»" in shown
    # Behind is told by its hatching as well as its colour.
    assert ax.patches[1].get_hatch() and not ax.patches[0].get_hatch()
    assert ax.patches[0].get_facecolor() != ax.patches[1].get_facecolor()


def test_progress_chart_is_a_phone_wide_png() -> None:
    png = progress_chart([metric("Hộ", 10, 20)], title="Tiến độ", percent_fmt=percent)
    assert png.startswith(PNG)
    assert int.from_bytes(png[16:20], "big") == 1080  # IHDR width


@pytest.mark.parametrize(
    ("done", "target", "label"),
    [
        (0, 2000, "0 hộ / 2.000 hộ (0%) — «on_track»"),  # nothing reported yet
        (5, 0, "5 hộ — «on_track»"),  # a zero target has no share
        (5, None, "5 hộ — «on_track»"),
        (9000, 10, "9.000 hộ / 10 hộ (90000%) — «on_track»"),
    ],
)
def test_progress_odd_values(done: float, target: float | None, label: str) -> None:
    fig = progress_figure([metric("Hộ", done, target)], title="Tiến độ", percent_fmt=percent)
    assert label in texts(fig)
    assert progress_chart([metric("Hộ", done, target)], title="T", percent_fmt=percent)[:4] == PNG


def test_long_progress_labels_wrap_instead_of_running_off() -> None:
    bar = MetricBar("Tiền", 1.3e9, 2e9, "at_risk", "có nguy cơ chậm tiến độ " * 3, money)
    fig = progress_figure([bar], title="Tiến độ", percent_fmt=percent)
    assert any("\n" in text and text.startswith("1,3 tỷ ₫ / 2,0 tỷ ₫") for text in texts(fig))


def test_no_metrics_says_so() -> None:
    assert "—" in texts(progress_figure([], title="Tiến độ", percent_fmt=percent))
    fig = progress_figure([], title="Tiến độ", percent_fmt=percent, empty_text="Chưa có chỉ tiêu")
    assert "Chưa có chỉ tiêu" in texts(fig)
    assert render(fig).startswith(PNG)


# --- trend ----------------------------------------------------------------------------------


def test_trend_draws_target_dashed_pace_and_projection_dotted_to_the_deadline() -> None:
    fig = trend_figure(trend(), title="Xu hướng", legend=LEGEND, date_fmt=tick)
    ax = axes(fig)

    (done,) = lines(fig, "-")[:1]
    assert list(done.get_ydata()) == [50 * n for n in range(1, 11)]
    (target,) = lines(fig, "--")
    assert list(target.get_ydata()) == [2000, 2000]
    (pace,) = lines(fig, "-.")
    assert list(pace.get_ydata()) == [0, 2000]
    (projection,) = lines(fig, ":")
    assert list(projection.get_xdata()) == [date(2025, 3, 10).toordinal(), DEADLINE.toordinal()]
    assert ax.get_xlim()[1] >= DEADLINE.toordinal()
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == list(LEGEND.values())


def test_trend_ticks_come_from_the_callers_formats() -> None:
    fig = trend_figure(trend(), title="Xu hướng", legend=LEGEND, date_fmt=tick)
    fig.draw_without_rendering()
    ax = axes(fig)
    values = [label.get_text() for label in ax.get_yticklabels() if label.get_text()]
    assert values and all(re.fullmatch(r"[\d.]+ hộ", value) for value in values)
    assert "0 hộ" in values
    days = [label.get_text() for label in ax.get_xticklabels() if label.get_text()]
    assert days[0] == "ngày 01/03" and days[-1] == "ngày 30/04"  # start and deadline
    assert "500 hộ" in texts(fig)  # today's total, labelled directly
    assert "2.000 hộ" in texts(fig)  # and the target


@pytest.mark.parametrize(
    "kwargs",
    [
        {"target": None, "deadline": None, "projection": False},
        {"deadline": None},
        {"target": None},
        {"projection": False},
        {"days": 1},
        {"days": 1, "per_day": 0, "target": None, "deadline": None, "projection": False},
        {"per_day": 0, "target": 0},
    ],
)
def test_trend_partial_data(kwargs: dict[str, object]) -> None:
    data = trend(**kwargs)  # type: ignore[arg-type]
    fig = trend_figure(data, title="Xu hướng", legend=LEGEND, date_fmt=tick)
    expected = ["done"]
    if data.target is not None:
        expected.append("target")
        if data.deadline is not None:
            expected.append("pace")
    if data.projection:
        expected.append("projection")
    expected.append("today")
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [LEGEND[key] for key in expected]
    assert len(lines(fig, "--")) == (data.target is not None)
    assert len(lines(fig, ":")) == bool(data.projection)
    assert trend_chart(data, title="Xu hướng", legend=LEGEND, date_fmt=tick).startswith(PNG)


def label(fig: Figure, text: str) -> Text:
    (found,) = [t for t in axes(fig).texts if t.get_text() == text]
    return found


@pytest.mark.parametrize("deadline", [DEADLINE, None])
@pytest.mark.parametrize("first_day", [50, 1900, 2050])  # far under, just under, over the target
def test_on_the_first_day_the_total_and_the_target_are_labelled_apart(
    deadline: date | None, first_day: float
) -> None:
    data = trend(1, per_day=first_day, deadline=deadline, projection=False)
    fig = trend_figure(data, title="Xu hướng", legend=LEGEND, date_fmt=tick)
    fig.draw_without_rendering()
    total = label(fig, households(first_day)).get_window_extent()
    target = label(fig, "2.000 hộ").get_window_extent()
    assert not total.overlaps(target)
    line = axes(fig).transData.transform((0, 2000))[1]
    assert not total.y0 < line < total.y1  # nor does the total sit on the target line


@pytest.mark.parametrize("days", [10, 50])  # today's total right of its point, then left of it
def test_a_total_just_under_the_target_keeps_off_the_target_line(days: int) -> None:
    fig = trend_figure(trend(days, per_day=1950 / days), title="T", legend=LEGEND, date_fmt=tick)
    fig.draw_without_rendering()
    total = label(fig, "1.950 hộ").get_window_extent()
    line = axes(fig).transData.transform((0, 2000))[1]
    assert total.y1 < line or total.y0 > line
    assert not total.overlaps(label(fig, "2.000 hộ").get_window_extent())


def full_tick(day: date) -> str:
    return f"ngày {day:%d/%m/%Y}"


def date_ticks(data: Trend) -> list[str]:
    fig = trend_figure(data, title="T", legend=LEGEND, date_fmt=tick, full_date_fmt=full_tick)
    fig.draw_without_rendering()
    return [t.get_text() for t in axes(fig).get_xticklabels() if t.get_text()]


def test_the_time_axis_gives_the_year_where_it_crosses_one() -> None:
    start, today, deadline = date(2025, 10, 1), date(2026, 1, 20), date(2026, 4, 30)
    history = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    data = Trend(
        "Hộ", history, [10.0 * (n + 1) for n in range(len(history))], 2000, deadline, [], households
    )
    # The first date and the first of the new year carry it; later dates of that year do not.
    assert date_ticks(data) == ["ngày 01/10/2025", "ngày 20/01/2026", "ngày 30/04"]
    # A first day whose deadline is next year: both ends.
    first = Trend("Hộ", [start], [12.0], 2000, deadline, [], households)
    assert date_ticks(first) == ["ngày 01/10/2025", "ngày 30/04/2026"]


def test_within_one_year_the_time_axis_leaves_the_year_to_the_title() -> None:
    assert date_ticks(trend()) == ["ngày 01/03", "ngày 30/04"]
    assert date_ticks(trend(1, deadline=None, projection=False)) == ["ngày 01/03"]


def compact_money(value: float) -> str:
    """As the digest writes money: the longest labels a value axis gets."""
    for size, word in ((1e9, "tỷ"), (1e6, "triệu"), (1e3, "nghìn")):
        if value >= size:
            return f"{value / size:,.1f}".replace(".", ",") + f" {word} ₫"
    return f"{value:.0f} ₫"


@pytest.mark.parametrize(
    ("data", "title"),
    [
        (trend(), "Xu hướng"),
        (trend(1, deadline=None, projection=False), "Xu hướng"),
        (trend(300, per_day=4e6, target=2e9), f"{VIETNAMESE}: tiền ủng hộ luỹ kế đến 31/12/2025"),
        (
            Trend(
                "Tiền ủng hộ (ngoài tiêu đề)",
                [date(2025, 10, 1) + timedelta(days=n) for n in range(120)],
                [12_345.6 * (n + 1) for n in range(120)],
                1e7,
                date(2026, 6, 30),
                [(date(2026, 1, 28), 1.48e6), (date(2026, 6, 30), 3.3e6)],
                compact_money,
            ),
            "T",
        ),
    ],
)
def test_trend_text_stays_inside_the_figure_and_apart(data: Trend, title: str) -> None:
    fig = trend_figure(data, title=title, legend=LEGEND, date_fmt=tick, full_date_fmt=full_tick)
    fig.draw_without_rendering()
    ax = axes(fig)
    (legend,) = fig.legends

    def drawn(axis: Axis, index: int) -> list[Text]:  # matplotlib skips ticks outside the view
        low, high = sorted(axis.get_view_interval())
        return [
            label
            for label in axis.get_ticklabels()
            if label.get_text() and low <= label.get_position()[index] <= high
        ]

    ticks = [*drawn(ax.xaxis, 0), *drawn(ax.yaxis, 1)]
    page = fig.bbox.padded(1)
    for text in [*ticks, *fig.texts, ax.title, *ax.texts, *legend.get_texts()]:
        if text.get_text():
            box = text.get_window_extent()
            assert page.x0 <= box.x0 and box.x1 <= page.x1, text
            assert page.y0 <= box.y0 and box.y1 <= page.y1, text
    boxes = [
        *(t.get_window_extent() for t in (*fig.texts, ax.title, *ticks) if t.get_text()),
        legend.get_window_extent(),
    ]
    for n, one in enumerate(boxes):
        for other in boxes[n + 1 :]:
            assert not one.overlaps(other), (one, other)
    for label in drawn(ax.xaxis, 0):
        assert legend.get_window_extent().y1 < label.get_window_extent().y0
        assert label.get_window_extent().y1 < ax.get_window_extent().y0


def test_trend_without_history_says_so() -> None:
    empty = Trend("Hộ", [], [], 100, None, [], households)
    fig = trend_figure(empty, title="Xu hướng", legend=LEGEND, date_fmt=tick, empty_text="Trống")
    assert "Trống" in texts(fig)


# --- breakdown ------------------------------------------------------------------------------


def test_breakdown_sorts_by_share_of_target() -> None:
    rows = [Share("Đội A", 50, 100), Share("Đội B", 90, 100), Share("Đội C", 500, None)]
    fig = breakdown_figure(
        rows, title="Theo đội", fmt=households, percent_fmt=percent, others_label="Khác"
    )
    assert names(fig) == ["Đội B", "Đội A", "Đội C"]  # no target: last, with no bar
    assert [p.get_width() for p in axes(fig).patches] == pytest.approx([0.9, 0.5, 0])
    assert {"90 hộ (90%)", "50 hộ (50%)", "500 hộ"} <= set(texts(fig))


def test_breakdown_without_targets_sorts_by_amount() -> None:
    rows = [Share("Đội A", 5e8, None), Share("Đội B", 2e9, None), Share("Đội C", 0, None)]
    fig = breakdown_figure(rows, title="Tiền", fmt=money, percent_fmt=percent, others_label="Khác")
    assert names(fig) == ["Đội B", "Đội A", "Đội C"]
    assert [p.get_width() for p in axes(fig).patches] == [2e9, 5e8, 0]
    assert "2,0 tỷ ₫" in texts(fig)


def test_breakdown_of_thousands_keeps_the_top_and_one_others_bar() -> None:
    rows = [Share(f"Tổ {n}", n % 250, 200) for n in range(3000)]
    fig = breakdown_figure(
        rows,
        title="Theo tổ",
        fmt=households,
        percent_fmt=percent,
        others_label="Các tổ khác",
        count_fmt=lambda n: f"{n:,}".replace(",", "."),
    )
    shown = names(fig)
    assert len(axes(fig).patches) == len(shown) == 13
    assert shown[-1] == "Các tổ khác (2.988)"
    assert all(p.get_width() <= 1.2 for p in axes(fig).patches)
    assert axes(fig).patches[-1].get_hatch()  # the others bar is set apart, not only by colour
    png = breakdown_chart(
        rows, title="Theo tổ", fmt=households, percent_fmt=percent, others_label="Khác", top=5
    )
    assert png.startswith(PNG)


def test_breakdown_keeps_a_single_leftover_row_as_itself() -> None:
    rows = [Share(f"Tổ {n}", n, 10) for n in range(4)]
    fig = breakdown_figure(
        rows, title="T", fmt=households, percent_fmt=percent, others_label="Khác", top=3
    )
    assert names(fig) == ["Tổ 3", "Tổ 2", "Tổ 1", "Tổ 0"]


def test_breakdown_truncates_long_names() -> None:
    long = "Hội Cựu chiến binh Thị trấn Phước Long, Huyện Bù Gia Mập, Tỉnh Bình Phước"
    fig = breakdown_figure(
        [Share(long, 1234, 2000)],
        title="T",
        fmt=households,
        percent_fmt=percent,
        others_label="Khác",
    )
    (name,) = names(fig)
    assert name.endswith("…") and long.startswith(name[:-1].rstrip())


def test_breakdown_without_rows_says_so() -> None:
    fig = breakdown_figure([], title="T", fmt=households, percent_fmt=percent, others_label="Khác")
    assert "—" in texts(fig)


# --- all charts -----------------------------------------------------------------------------


def all_figures(title: str) -> list[Figure]:
    return [
        progress_figure([metric(title, 10, 20)], title=title, percent_fmt=percent),
        trend_figure(trend(), title=title, legend=LEGEND, date_fmt=tick),
        breakdown_figure(
            [Share(title, 1, 2)], title=title, fmt=money, percent_fmt=percent, others_label=title
        ),
    ]


def test_vietnamese_renders_without_missing_glyphs() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for fig in all_figures(VIETNAMESE):
            assert render(fig).startswith(PNG)
    assert not [w for w in caught if "Glyph" in str(w.message)]


def test_text_is_dejavu_and_large_enough_for_a_phone() -> None:
    for fig in all_figures(VIETNAMESE):
        assert fig.get_figwidth() * fig.dpi == 1080
        fig.draw_without_rendering()
        for text in fig.findobj(Text):
            if text.get_visible() and text.get_text():
                assert text.get_fontfamily() == ["DejaVu Sans"], text
                assert text.get_fontsize() >= 14, text


def test_dollar_signs_are_text_not_math() -> None:
    # A pair of `$` would otherwise be parsed as math, and an odd one fail to parse.
    for fig in all_figures("Quỹ $5 và $10 $"):
        assert render(fig).startswith(PNG)


def test_charts_render_the_same_from_several_threads() -> None:
    def draw(n: int) -> bytes:
        return render(all_figures(f"Đội {n % 2}")[n % 3])

    alone = [draw(n) for n in range(6)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(draw, range(6))) == alone


def test_no_pyplot() -> None:
    # pyplot keeps global figures and state, which worker threads must not share.
    for source in (Path(__file__).parent.parent / "charts").glob("*.py"):
        imports = re.findall(r"^\s*(?:from|import) .*$", source.read_text("utf-8"), re.M)
        assert not [line for line in imports if "pyplot" in line], source


def _decoded(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("RGB"), dtype=int)


def test_every_style_colour_comes_out_of_the_png_exactly() -> None:
    colours = ["#FFFFFF", *OKABE_ITO.values(), TRACK, GRID, MUTED]
    fig = Figure(figsize=(len(colours), 1), dpi=50)
    for n, colour in enumerate(colours):
        fig.add_artist(Rectangle((n / len(colours), 0), 1 / len(colours), 1, color=colour))
    pixels = _decoded(render(fig))
    centres = [pixels[25, 50 * n + 25] for n in range(len(colours))]
    assert [f"#{r:02X}{g:02X}{b:02X}" for r, g, b in centres] == [c.upper() for c in colours]


def test_a_chart_png_is_what_was_drawn_within_a_few_levels() -> None:
    # The fixed palette must not shift what a reader sees: compare the decoded PNG with the
    # canvas it came from, channel by channel (0–255).
    for fig in all_figures(VIETNAMESE):
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        drawn = np.asarray(canvas.buffer_rgba(), dtype=int)[..., :3]
        error = np.abs(_decoded(render(fig)) - drawn).max(axis=2)
        assert error.mean() < 0.5
        assert np.percentile(error, 99.9) <= 11  # edges; where two colours meet, a few more
