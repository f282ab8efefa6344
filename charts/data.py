"""What the charts draw. Every word and every number format comes from the caller, already in
the reader's language: the charts never translate or format anything themselves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Status = Literal["on_track", "at_risk", "behind", "done", "no_target"]


@dataclass(frozen=True)
class MetricBar:
    """One metric's progress against its campaign target."""

    label: str
    done: float
    target: float | None
    status: Status
    status_text: str
    fmt: Callable[[float], str]


@dataclass(frozen=True)
class Trend:
    """One metric's cumulative history, from the campaign start to today (the last day)."""

    label: str
    days: Sequence[date]
    cumulative: Sequence[float]
    target: float | None
    deadline: date | None
    projection: Sequence[tuple[date, float]]
    fmt: Callable[[float], str]


@dataclass(frozen=True)
class Share:
    """One team's or unit's part of a metric."""

    name: str
    done: float
    target: float | None
