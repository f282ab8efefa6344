"""/metric: what a campaign counts, its targets, per-report maximums and the words for it."""

from __future__ import annotations

from handlers.commands.common import code, no_extra, rest, word
from handlers.engine.context import Ctx
from handlers.errors import N_, UserError
from handlers.language import dates, numbers
from handlers.language.report_lines import (
    DATE_KEYS,
    NOTE_KEYS,
    TEAM_KEYS,
    fold,
    metric_words,
    read_value,
)
from handlers.read import display
from handlers.values import Reply
from storage import progress, queries
from storage.models import Metric

ADD_EXAMPLE = '/metric add households "Hộ đã vận động" unit=household target=500 aliases=hộ,ho'
UNITS = ("household", "m", "km", "VND", "house", "person", "meeting")
# Words a report already gives a meaning to; an alias must not shadow them. Options are read
# without diacritics (`ghi chú` = `ghichu`); amounts and day words as written (`quà` is free).
RESERVED_KEYS = {*DATE_KEYS, *TEAM_KEYS, *NOTE_KEYS}
RESERVED_WORDS = {
    *(w.casefold() for w in numbers.VOCABULARY),
    *dates.DAY_WORDS,
    *("hôm", "hom", "qua", "kia"),
}
YES = {"yes", "y", "co", "true", "1"}
NO = {"no", "n", "khong", "false", "0"}


def _metric(ctx: Ctx, index: int, example: str) -> Metric:
    campaign = ctx.campaign()
    key = word(ctx, index, example).lower()
    metric = queries.metric_by_key(ctx.session, campaign.id, key)  # type: ignore[arg-type]
    if metric is None or not metric.active:
        raise UserError(
            N_("There is no metric “{token}” in {campaign}."),
            token=key,
            campaign=campaign.code,
            example="/metric list",
        )
    return metric


def _aliases(value: str, others: list[Metric], key: str) -> list[str]:
    """Comma-separated words or phrases (`hộ,ho,hộ dân`): each of letters only, none a word a
    report already reads otherwise."""
    taken = {fold(w) for m in others for w in metric_words(m)}
    aliases: list[str] = []
    for alias in filter(None, (" ".join(a.split()) for a in value.split(","))):
        folded = fold(alias)
        if fold(alias).replace(" ", "") in RESERVED_KEYS or any(
            w.casefold() in RESERVED_WORDS or fold(w) in RESERVED_KEYS or not w.isalpha()
            for w in alias.split()
        ):
            raise UserError(
                N_("“{token}” cannot be an alias: it already means something."),
                token=alias,
                example="aliases=hộ,ho",
            )
        if folded in taken:
            raise UserError(
                N_("“{token}” is already a word for another metric."),
                token=alias,
                example="/metric list",
            )
        if alias.casefold() != key and alias not in aliases:
            aliases.append(alias)
    return aliases


def _yes_no(key: str, value: str) -> bool:
    answer = fold(value.strip())
    if answer not in YES | NO:
        raise UserError(
            N_("{key}= takes yes or no, not “{token}”."),
            key=key,
            token=value,
            example=f"{key}=yes",
        )
    return answer in YES


def add(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    assert campaign.id is not None
    key = code(ctx, 0, ADD_EXAMPLE)
    label = rest(ctx, 1, ADD_EXAMPLE)
    options = ctx.args.options
    no_extra(ctx, {"unit", "target", "max", "aliases", "en", "decimals"}, ADD_EXAMPLE)
    if "unit" not in options or not options["unit"].strip():
        raise UserError(
            N_("Say the unit ({choices}, or your own word)."),
            choices=", ".join(UNITS),
            example=ADD_EXAMPLE,
        )
    existing = queries.metrics(ctx.session, campaign.id, active_only=False)
    if any(m.key == key for m in existing):
        raise UserError(N_("Metric {key} already exists."), key=key, example="/metric list")
    if fold(key) in RESERVED_KEYS:  # `key=` must stay free for options
        raise UserError(
            N_("“{token}” cannot be an alias: it already means something."),
            token=key,
            example=ADD_EXAMPLE,
        )
    active = [m for m in existing if m.active]
    if fold(key) in {fold(w) for m in active for w in metric_words(m)}:
        raise UserError(
            N_("“{token}” is already a word for another metric."), token=key, example="/metric list"
        )
    unit = options["unit"].strip()
    unit = "VND" if unit.casefold() in ("vnd", "đ", "₫", "dong", "đồng") else unit
    metric = Metric(
        campaign_id=campaign.id,
        key=key,
        label_vi=label,
        label_en=options.get("en") or label,
        unit=unit,
        decimals=_yes_no("decimals", options["decimals"]) if "decimals" in options else False,
        aliases=_aliases(options.get("aliases", ""), active, key),
        position=len(existing),
    )
    # Targets and maximums read as reports do, in the metric's unit (`target=1,3 tỷ`).
    if "target" in options:
        metric.target = read_value(metric, options["target"], ADD_EXAMPLE)
    if "max" in options:
        metric.max_per_report = read_value(metric, options["max"], ADD_EXAMPLE)
    ctx.session.add(metric)
    ctx.audit(campaign, "metric.add", key=key, unit=unit, target=metric.target)
    return Reply(
        ctx.tr._(
            "Metric {key} added. Reporters can now write: {example}",
            key=key,
            example=f"/report {key}=12"
            + (f" · /report 12 {metric.aliases[0]}" if metric.aliases else ""),
        )
    )


def list_(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    assert campaign.id is not None
    tr = ctx.tr
    metrics = queries.metrics(ctx.session, campaign.id)
    if not metrics:
        return Reply(tr._("No metrics yet.") + "\n" + ADD_EXAMPLE)
    totals = progress.campaign_totals(ctx.session, campaign.id)
    lines = [tr._("Metrics of {campaign}:", campaign=campaign.code)]
    for m in metrics:
        words = ", ".join(m.aliases) or "—"
        unit = display.unit_name(tr, m.unit)
        line = f"• {m.key} — {display.label(tr, m)} [{unit}] · " + display.of_target(
            tr, m, totals.get(m.id, 0.0), m.target
        )  # type: ignore[arg-type]
        line += " · " + tr._("words: {words}", words=words)
        if m.max_per_report is not None:
            line += " · " + tr._("max {max} per report", max=display.value(tr, m, m.max_per_report))
        if m.decimals:
            line += " · " + tr._("decimals allowed")
        lines.append(line)
    return Reply("\n".join(lines))


def target(ctx: Ctx) -> Reply:
    example = "/metric target households 500 · /metric target vnd 1,3 tỷ"
    metric = _metric(ctx, 0, example)
    value = read_value(metric, rest(ctx, 1, example), example)
    old = metric.target
    metric.target = value
    ctx.session.add(metric)
    ctx.audit(ctx.campaign(), "metric.target", key=metric.key, old=old, new=value)
    return Reply(
        ctx.tr._(
            "Target of {key} is now {value}.",
            key=metric.key,
            value=display.value(ctx.tr, metric, value),
        )
    )


def remove(ctx: Ctx) -> Reply:
    metric = _metric(ctx, 0, "/metric remove households")
    metric.active = False
    ctx.session.add(metric)
    ctx.audit(ctx.campaign(), "metric.remove", key=metric.key)
    return Reply(ctx.tr._("Metric {key} removed; its past reports are kept.", key=metric.key))
