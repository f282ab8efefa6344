"""/unit: the administrative tree (province → commune → village, any depth). Units can be
renamed and re-parented; roll-ups always follow the current tree."""

from __future__ import annotations

from handlers.commands.common import code, no_extra, rest, word
from handlers.engine.context import Ctx
from handlers.errors import N_, UserError
from handlers.values import Reply
from storage import progress, queries
from storage.models import Campaign, Unit

ADD_EXAMPLE = "/unit add thon-dong Thôn Đông parent=xa-bsd"


def find(ctx: Ctx, campaign: Campaign, unit_code: str) -> Unit:
    unit = queries.unit_by_code(ctx.session, campaign.id, unit_code)  # type: ignore[arg-type]
    if unit is None:
        raise UserError(
            N_("There is no unit “{code}” in {campaign}."),
            code=unit_code,
            campaign=campaign.code,
            example="/unit list",
        )
    return unit


def _parent(ctx: Ctx, campaign: Campaign, value: str | None) -> Unit | None:
    if value is None or value.lower() in ("none", "-"):
        return None
    return find(ctx, campaign, value.lower())


def add(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    unit_code = code(ctx, 0, ADD_EXAMPLE)
    name = rest(ctx, 1, ADD_EXAMPLE)
    no_extra(ctx, {"parent"}, ADD_EXAMPLE)
    if queries.unit_by_code(ctx.session, campaign.id, unit_code) is not None:  # type: ignore[arg-type]
        raise UserError(N_("Unit {code} already exists."), code=unit_code, example="/unit list")
    parent = _parent(ctx, campaign, ctx.args.options.get("parent"))
    ctx.session.add(
        Unit(
            campaign_id=campaign.id,
            code=unit_code,
            name=name,  # type: ignore[arg-type]
            parent_id=parent.id if parent else None,
        )
    )
    ctx.audit(
        campaign, "unit.add", code=unit_code, name=name, parent=parent.code if parent else None
    )
    return Reply(ctx.tr._("Unit {code} “{name}” added.", code=unit_code, name=name))


def move(ctx: Ctx) -> Reply:
    example = "/unit move thon-dong parent=xa-moi"
    campaign = ctx.campaign()
    unit = find(ctx, campaign, word(ctx, 0, example).lower())
    if "parent" not in ctx.args.options:
        raise UserError(N_("Say the new parent with parent= (or parent=none)."), example=example)
    parent = _parent(ctx, campaign, ctx.args.options["parent"])
    if parent is not None and unit.id in progress.ancestors(
        parent.id,  # type: ignore[arg-type]
        progress.unit_parents(ctx.session, campaign.id),  # type: ignore[arg-type]
    ):
        raise UserError(
            N_("{code} cannot go under {parent}: that is {code} itself or one of its sub-units."),
            code=unit.code,
            parent=parent.code,
            example=example,
        )
    old = unit.parent_id
    unit.parent_id = parent.id if parent else None
    ctx.session.add(unit)
    ctx.audit(
        campaign,
        "unit.move",
        code=unit.code,
        old_parent=old,
        new_parent=parent.code if parent else None,
    )
    return Reply(
        ctx.tr._(
            "Unit {code} now sits under {parent}.",
            code=unit.code,
            parent=parent.name if parent else "—",
        )
    )


def rename(ctx: Ctx) -> Reply:
    example = "/unit rename xa-bsd Xã Bình Sơn"
    campaign = ctx.campaign()
    unit = find(ctx, campaign, word(ctx, 0, example).lower())
    name = rest(ctx, 1, example)
    old, unit.name = unit.name, name
    ctx.session.add(unit)
    ctx.audit(campaign, "unit.rename", code=unit.code, old=old, new=name)
    return Reply(ctx.tr._("Unit {code} is now “{name}”.", code=unit.code, name=name))


def list_(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    units = queries.units(ctx.session, campaign.id)  # type: ignore[arg-type]
    if not units:
        return Reply(ctx.tr._("No units yet.") + "\n" + ADD_EXAMPLE)
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    lines = [ctx.tr._("Units of {campaign}:", campaign=campaign.code)]
    listed: set[int | None] = set()

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            if unit.id not in listed:  # a cycle in a database edited by hand ends here
                listed.add(unit.id)
                lines.append(f"{'  ' * depth}• {unit.code} — {unit.name}")
                walk(unit.id, depth + 1)

    walk(None, 0)
    for unit in units:  # units in such a cycle are reachable from no root: still shown
        if unit.id not in listed:
            walk(unit.parent_id, 0)
    return Reply("\n".join(lines))
