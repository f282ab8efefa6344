"""/invite, /join (and /start <code>), /role: who belongs to a campaign, in which role."""

from __future__ import annotations

import secrets
from datetime import timedelta

from handlers.commands.common import find_team, word
from handlers.engine.context import ROLE_NAMES, ROLE_RANK, Ctx
from handlers.errors import N_, Refused, UserError
from handlers.language import numbers
from handlers.values import Ref, Reply
from storage import queries
from storage.models import Account, Campaign, Invite, Team

# No 0/O or 1/I: codes get read aloud and typed on phones.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INVITE_EXAMPLE = "/invite to1 uses=20 days=7"


def _small_int(ctx: Ctx, key: str, default: int, limit: int) -> int:
    value = ctx.args.options.get(key)
    if value is None:
        return default
    return numbers.whole_number(value, name=key + "=", low=1, high=limit, example=INVITE_EXAMPLE)


def invite(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    target = word(ctx, 0, INVITE_EXAMPLE).lower()
    team: Team | None = None
    if target in ("leader", "admin"):
        role = target
    else:
        role, team = "reporter", find_team(ctx, campaign, target)
    uses = _small_int(ctx, "uses", 1 if role == "admin" else 50, 1000)
    days = _small_int(ctx, "days", 7, 90)
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    now = ctx.now()
    ctx.session.add(
        Invite(
            code=code,
            campaign_id=campaign.id,
            role=role,  # type: ignore[arg-type]
            team_id=team.id if team else None,
            max_uses=uses,
            expires_at=now + timedelta(days=days),
            created_by_id=ctx.account_id,
            created_at=now,
        )
    )
    ctx.audit(
        campaign, "invite.create", role=role, team=team.code if team else None, uses=uses, days=days
    )
    tr = ctx.tr
    who = tr._("a reporter of team {team}", team=team.name) if team else tr._(ROLE_NAMES[role])
    lines = [
        tr._(
            "Invite code {code}: joins {campaign} as {who}; {uses} uses, valid {days} days.",
            code=code,
            campaign=campaign.code,
            who=who,
            uses=uses,
            days=days,
        ),
        tr._("Send it to them: /join {code}", code=code),
    ]
    if ctx.settings.deep_link_base:
        lines.append(ctx.settings.deep_link_base + code)
    return Reply("\n".join(lines))


def join(ctx: Ctx) -> Reply:
    return redeem(ctx, word(ctx, 0, "/join ABCD1234"))


def redeem(ctx: Ctx, code: str) -> Reply:
    code = code.strip().upper()
    found = queries.invite_by_code(ctx.session, code)
    if found is None or found.expires_at < ctx.now() or found.uses >= found.max_uses:
        raise UserError(
            N_("Invite code {code} is unknown, used up or expired. Ask for a new one."), code=code
        )
    campaign = ctx.session.get(Campaign, found.campaign_id)
    assert campaign is not None
    found.uses += 1
    ctx.session.add(found)
    _grant(
        ctx,
        ctx.account,
        campaign,
        found.role,
        ctx.session.get(Team, found.team_id) if found.team_id else None,
    )
    ctx.chat.campaign_id = ctx.chat.campaign_id or campaign.id
    ctx.session.add(ctx.chat)
    ctx.audit(campaign, "invite.use", code=code, role=found.role)
    tr = ctx.tr
    if found.team_id:
        team = ctx.session.get(Team, found.team_id)
        assert team is not None
        return Reply(
            tr._(
                "Welcome to {campaign}! You report for team {team}. Try: {example}",
                campaign=campaign.name,
                team=team.name,
                example="/report 12 hộ",
            )
        )
    return Reply(
        tr._(
            "Welcome to {campaign}! Your role: {role}. /help shows your commands.",
            campaign=campaign.name,
            role=tr._(ROLE_NAMES[found.role]),
        )
    )


def _grant(ctx: Ctx, account: Account, campaign: Campaign, role: str, team: Team | None) -> None:
    """Give a role (never lowering a higher one) and, for a reporter, a team."""
    assert account.id is not None and campaign.id is not None
    membership = queries.membership(ctx.session, account.id, campaign.id)
    if membership is None or ROLE_RANK[role] > ROLE_RANK[membership.role]:
        queries.set_role(ctx.session, account.id, campaign.id, role)
    if team is not None:
        queries.add_to_team(ctx.session, account.id, team.id)  # type: ignore[arg-type]


def _account(ctx: Ctx, text: str) -> Account:
    """A user named by a platform id (`telegram:42`; adapters turn their mentions into these),
    a bare id on my own platform (`42`) or a shell name (`@bob`). They must have talked to the
    bot."""
    me = ctx.request.user
    text = text.strip()
    try:
        ref = Ref.parse(text) if ":" in text else Ref(me.platform, me.workspace, text.lstrip("@"))
    except ValueError:
        ref = None
    account = queries.account_by_ref(ctx.session, ref) if ref else None
    if account is None:
        raise UserError(
            N_(
                "I have not met {user} yet: they must send /start to the bot first, "
                "or use an invite code."
            ),
            user=text,
            example="/invite leader",
        )
    return account


def role(ctx: Ctx) -> Reply:
    example = "/role telegram:123456 leader"
    campaign = ctx.campaign()
    assert campaign.id is not None
    target = word(ctx, 0, example)
    if target.lower() == "revoke":
        return _revoke(ctx, campaign, _account(ctx, word(ctx, 1, "/role revoke telegram:123456")))
    account = _account(ctx, target)
    new_role = word(ctx, 1, example).lower()
    if new_role not in ROLE_RANK:
        raise UserError(N_("The role is one of reporter, leader, admin."), example=example)
    team = (
        find_team(ctx, campaign, ctx.args.options["team"].lower())
        if "team" in ctx.args.options
        else None
    )
    if (
        new_role == "reporter"
        and team is None
        and not queries.teams_of(ctx.session, account.id, campaign.id)
    ):  # type: ignore[arg-type]
        raise UserError(
            N_("A reporter needs a team: add team=."),
            example="/role telegram:123456 reporter team=to1",
        )
    old = queries.set_role(ctx.session, account.id, campaign.id, new_role)  # type: ignore[arg-type]
    if team is not None:
        queries.add_to_team(ctx.session, account.id, team.id)  # type: ignore[arg-type]
    ctx.audit(
        campaign,
        "role.set",
        user=account.key,
        old=old,
        new=new_role,
        team=team.code if team else None,
    )
    return Reply(
        ctx.tr._(
            "{user} is now {role} in {campaign}.",
            user=_name(account),
            role=ctx.tr._(ROLE_NAMES[new_role]),
            campaign=campaign.code,
        )
    )


def _revoke(ctx: Ctx, campaign: Campaign, account: Account) -> Reply:
    membership = queries.membership(ctx.session, account.id, campaign.id)  # type: ignore[arg-type]
    if membership is None:
        raise UserError(
            N_("{user} has no role in {campaign}."), user=_name(account), campaign=campaign.code
        )
    if account.id == ctx.account_id and membership.role == "admin" and not ctx.is_superadmin:
        raise Refused(N_("You cannot revoke your own administrator role."))
    queries.remove_from_campaign(ctx.session, account.id, campaign.id)  # type: ignore[arg-type]
    ctx.audit(campaign, "role.revoke", user=account.key, old=membership.role)
    return Reply(
        ctx.tr._(
            "{user} no longer takes part in {campaign}.",
            user=_name(account),
            campaign=campaign.code,
        )
    )


def _name(account: Account) -> str:
    return f"{account.display_name} ({account.key})" if account.display_name else account.key
