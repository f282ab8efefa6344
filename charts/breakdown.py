"""One metric broken down by team or unit: the leaders first, everyone else in one bar, so the
chart stays the same size (and as fast) with ten rows or ten thousand."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from matplotlib.figure import Figure

from charts.data import Share
from charts.rows import Row, rows_figure
from charts.style import OKABE_ITO, message_figure, render

CAP: Final = 1.2  # as in the progress chart: a runaway share does not squash the others
BAR_PT: Final = 18.0


def _ratio(share: Share) -> float | None:
    """Share of the target done; none without a target or with a zero one."""
    return share.done / share.target if share.target else None


def _rank(share: Share) -> tuple[int, float, float]:
    """Shares with a target by share done, then the rest by amount done."""
    ratio = _ratio(share)
    return (0, -ratio, -share.done) if ratio is not None else (1, 0.0, -share.done)


def breakdown_figure(
    rows: Sequence[Share],
    *,
    title: str,
    fmt: Callable[[float], str],
    percent_fmt: Callable[[float], str],
    others_label: str,
    top: int = 12,
    count_fmt: Callable[[int], str] = str,
    empty_text: str = "—",
) -> Figure:
    """Bars are the share of target when any row has a target, else the amount done. The rows
    after the first `top` become one bar, "`others_label` (`count_fmt(n)`)"; a single leftover
    row is shown as itself. `percent_fmt` receives a ratio: 0.62 for 62 %."""
    if top < 1:
        raise ValueError("top must be at least 1")
    if not rows:
        return message_figure(title, empty_text)
    by_share = any(share.target for share in rows)
    ranked = sorted(rows, key=_rank)
    shown, rest = (ranked, []) if len(ranked) <= top + 1 else (ranked[:top], ranked[top:])
    # By amount, the others' total would dwarf every single row: the axis follows the rows
    # shown and the others' bar is cut at its end (its label has the real total).
    most = max(1.0, *(share.done for share in shown))

    def row(name: str, done: float, ratio: float | None, *, others: bool) -> Row:
        if ratio is not None:
            length, value = min(ratio, CAP), f"{fmt(done)} ({percent_fmt(ratio)})"
        else:
            length, value = (0.0 if by_share else min(done, most)), fmt(done)
        return Row(
            name=name,
            length=length,
            color=OKABE_ITO["sky_blue" if others else "blue"],
            hatch="//" if others else "",
            track=None if ratio is None else 1.0,
            bar=ratio is not None or not by_share,
            value=value,
        )

    bars = [row(share.name, share.done, _ratio(share), others=False) for share in shown]
    if rest:
        # The others' share counts only those with a target, against their targets.
        target = sum(share.target or 0.0 for share in rest)
        with_target = sum(share.done for share in rest if share.target)
        bars.append(
            row(
                f"{others_label} ({count_fmt(len(rest))})",
                sum(share.done for share in rest),
                with_target / target if target else None,
                others=True,
            )
        )
    xmax = max(1.0, *(bar.length for bar in bars)) if by_share else most
    return rows_figure(title, bars, xmax=xmax, bar_pt=BAR_PT)


def breakdown_chart(
    rows: Sequence[Share],
    *,
    title: str,
    fmt: Callable[[float], str],
    percent_fmt: Callable[[float], str],
    others_label: str,
    top: int = 12,
    count_fmt: Callable[[int], str] = str,
    empty_text: str = "—",
) -> bytes:
    return render(
        breakdown_figure(
            rows,
            title=title,
            fmt=fmt,
            percent_fmt=percent_fmt,
            others_label=others_label,
            top=top,
            count_fmt=count_fmt,
            empty_text=empty_text,
        )
    )
