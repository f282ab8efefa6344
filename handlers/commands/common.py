"""Small checks the administration handlers share: required words and names, codes, options."""

from __future__ import annotations

import re

from handlers.engine.context import Ctx
from handlers.errors import N_, UserError
from storage import queries
from storage.models import Campaign, Team

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def word(ctx: Ctx, index: int, example: str) -> str:
    value = ctx.args.word(index)
    if value is None or not value.strip():
        raise UserError(N_("Something is missing here."), example=example)
    return value.strip()


def rest(ctx: Ctx, index: int, example: str) -> str:
    """A name or value that runs over the positional words from index on (`Tổ 5 thôn Đông`)."""
    value = ctx.args.rest(index)
    if value is None:
        raise UserError(N_("Something is missing here."), example=example)
    return value


def code(ctx: Ctx, index: int, example: str) -> str:
    return check_code(word(ctx, index, example), example)


def check_code(value: str, example: str) -> str:
    value = value.strip().lower()
    if not CODE.match(value):
        raise UserError(
            N_("“{token}” is not a valid code: use up to 32 letters a–z, digits, - or _."),
            token=value,
            example=example,
        )
    return value


def no_extra(ctx: Ctx, allowed: set[str], example: str) -> None:
    unknown = sorted(set(ctx.args.options) - allowed)
    if unknown:
        raise UserError(N_("Unknown option “{token}=”."), token=unknown[0], example=example)


def find_team(ctx: Ctx, campaign: Campaign, team_code: str, *, field: str | None = None) -> Team:
    """The campaign's team of that code, or an error naming it (`field`: the form field)."""
    team = queries.team_by_code(ctx.session, campaign.id, team_code)  # type: ignore[arg-type]
    if team is None:
        raise UserError(
            N_("There is no team “{code}” in {campaign}."),
            code=team_code,
            campaign=campaign.code,
            field=field,
            example="/team list",
        )
    return team
