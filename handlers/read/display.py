"""How things read in a reply: metric labels, values with their units, ratios to targets."""

from __future__ import annotations

from handlers.errors import N_
from handlers.language.i18n import Translator
from handlers.read.forecast import Status
from storage.models import Metric, Team

# The units the spec names, with their plural forms for English; anything else is free text.
UNIT_NAMES: dict[str, tuple[str, str]] = {
    "household": (N_("household"), N_("households")),
    "house": (N_("house"), N_("houses")),
    "person": (N_("person"), N_("people")),
    "meeting": (N_("meeting"), N_("meetings")),
}

STATUS_TEXT: dict[Status, str] = {
    "on_track": N_("on track"),
    "at_risk": N_("at risk"),
    "behind": N_("behind"),
    "done": N_("target met"),
    "no_target": N_("no target"),
}


def label(tr: Translator, metric: Metric) -> str:
    return metric.label_vi if tr.lang == "vi" else metric.label_en


def value(tr: Translator, metric: Metric, amount: float, *, compact: bool = False) -> str:
    unit = metric.unit
    if unit.casefold() == "vnd":
        return tr.amount(amount, "VND", compact=compact)
    if unit.casefold() in ("m", "km"):
        return tr.amount(amount * (1000 if unit.casefold() == "km" else 1), "m", compact=compact)
    return f"{tr.number(amount)} {unit_name(tr, unit, amount)}"


def unit_name(tr: Translator, unit: str, amount: float = 2) -> str:
    """A known unit in the reader's language (singular or plural by amount), else as typed."""
    if unit in UNIT_NAMES:
        singular, plural = UNIT_NAMES[unit]
        # Each form is its own msgid: Vietnamese has one form for both.
        return tr._(singular if amount == 1 else plural)
    return unit


def of_target(tr: Translator, metric: Metric, total: float, target: float | None) -> str:
    """`1.234 / 5.000 hộ (24,7%)`, or just the total where there is no target."""
    if not target:
        return value(tr, metric, total, compact=True)
    # Counts and metres read best as "1.234 / 5.000 hộ"; money needs its scale on both sides.
    counted = metric.unit.casefold() not in ("vnd", "km")
    done = tr.number(total) if counted else value(tr, metric, total, compact=True)
    return f"{done} / {value(tr, metric, target, compact=True)} ({tr.percent(total / target)})"


def team_name(team: Team) -> str:
    return f"{team.name} ({team.code})"


def status(tr: Translator, status: Status) -> str:
    return tr._(STATUS_TEXT[status])


def rate(tr: Translator, metric: Metric, per_day: float) -> str:
    """A pace per day, rounded to what a reader can use: 12,5 hộ; 33,8 triệu ₫."""
    return value(tr, metric, round(per_day, 1 if per_day < 100 else 0), compact=True)
