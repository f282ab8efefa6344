"""/invite, /join (and /start <code>), /role: who belongs to a campaign, in which role."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from handlers.commands.common import find_team, rest, word
from handlers.engine.context import ROLE_NAMES, ROLE_RANK, Ctx
from handlers.engine.dispatch import error_reply
from handlers.errors import N_, Refused, UserError
from handlers.language import numbers
from handlers.language.report_lines import example_line
from handlers.values import Ref, Reply
from storage import queries
from storage.models import Account, Campaign, Invite, Team

log = logging.getLogger(__name__)

# No 0/O or 1/I: codes get read aloud and typed on phones. 13 of 32 letters are 65 bits: too
# many to guess, even before the wrong tries are slowed down.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 13
GROUPS = (4, 4, 5)  # shown as ABCD-EFGH-JKLMN, to read aloud; typed with or without the dashes
INVITE_EXAMPLE = "/invite to1 uses=20 days=7"
JOIN_EXAMPLE = "/join ABCD-EFGH-JKLMN"
# After this many wrong codes within the window, an account waits until the oldest drops out.
WRONG_CODES = 5
WRONG_WINDOW = timedelta(minutes=10)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    parts, start = [], 0
    for size in GROUPS:
        parts.append(code[start : start + size])
        start += size
    return "-".join(part for part in [*parts, code[start:]] if part)


def normalized(typed: str) -> str:
    """What the user typed, as stored: `abcd efgh-jklmn` is `ABCDEFGHJKLMN`."""
    return "".join(ch for ch in typed.upper() if ch.isascii() and ch.isalnum())


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
    code = new_code()
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
            code=grouped(code),
            campaign=campaign.code,
            who=who,
            uses=uses,
            days=days,
        ),
        tr._("Send it to them: /join {code}", code=grouped(code)),
    ]
    if ctx.settings.deep_link_base:
        lines.append(ctx.settings.deep_link_base + grouped(code))  # start= takes A-Z 0-9 -
    return Reply("\n".join(lines))


def join(ctx: Ctx) -> Reply:
    return redeem(ctx, rest(ctx, 0, JOIN_EXAMPLE))


def redeem(ctx: Ctx, typed: str) -> Reply:
    code = normalized(typed)
    now = ctx.now()
    failures = queries.join_failures_since(ctx.session, ctx.account_id, now - WRONG_WINDOW)
    if len(failures) >= WRONG_CODES:
        wait = failures[-WRONG_CODES] + WRONG_WINDOW - now
        raise Refused(
            N_("Too many wrong invite codes. Try again in {minutes} minutes."),
            minutes=max(1, -(-int(wait.total_seconds()) // 60)),
        )
    found = queries.invite_by_code(ctx.session, code) if code else None
    if found is not None and _already_in(ctx, found):
        return _welcome_back(ctx, found)
    if found is None or found.expires_at < now or found.uses >= found.max_uses:
        # One answer whatever the reason, so a guess learns nothing about other campaigns'
        # codes. Returned, not raised: the failure must be kept to count it.
        queries.add_join_failure(ctx.session, ctx.account_id, now, now - WRONG_WINDOW)
        log.warning(
            "%s: wrong invite code (%d in %s)", ctx.account.key, len(failures) + 1, WRONG_WINDOW
        )
        return error_reply(
            ctx.tr,
            UserError(
                N_("Invite code {code} is unknown, used up or expired. Ask for a new one."),
                code=typed.strip()[:40],
            ),
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
                example=example_line(queries.metrics(ctx.session, campaign.id)),  # type: ignore[arg-type]
            )
        )
    return Reply(
        tr._(
            "Welcome to {campaign}! Your role: {role}. /help shows your commands.",
            campaign=campaign.name,
            role=tr._(ROLE_NAMES[found.role]),
        )
    )


def _already_in(ctx: Ctx, invite: Invite) -> bool:
    """Would the code give them nothing new (their own code again)? Then it is not used up."""
    membership = queries.membership(ctx.session, ctx.account_id, invite.campaign_id)
    if membership is None or ROLE_RANK[membership.role] < ROLE_RANK[invite.role]:
        return False
    teams = {t.id for t in queries.teams_of(ctx.session, ctx.account_id, invite.campaign_id)}
    return invite.team_id is None or invite.team_id in teams


def _welcome_back(ctx: Ctx, invite: Invite) -> Reply:
    campaign = ctx.session.get(Campaign, invite.campaign_id)
    assert campaign is not None
    ctx.chat.campaign_id = ctx.chat.campaign_id or campaign.id
    ctx.session.add(ctx.chat)
    return Reply(
        ctx.tr._(
            "You are already in {campaign}; nothing changed. /me shows your roles and teams.",
            campaign=campaign.name,
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


ROLE_EXAMPLE = "/role telegram:123456 leader"


def _account(ctx: Ctx, text: str) -> tuple[str, Account | None]:
    """A user named by a platform id (`telegram:42`, `zalo:…`, `slack:T01:U02`; adapters turn
    their mentions into these), a bare id on my own platform (`42`) or a shell name (`@bob`):
    its account key, and its account if they have written to the bot already."""
    me = ctx.request.user
    text = text.strip()
    try:
        ref = Ref.parse(text) if ":" in text else Ref(me.platform, me.workspace, text.lstrip("@"))
    except ValueError:
        ref = None
    account = queries.account_by_ref(ctx.session, ref) if ref else None
    # Someone not met yet gets a role that waits for their key, so the key must be one the
    # platform can send: a Telegram @username or a Slack id without its workspace never would.
    if account is None and (ref is None or not _platform_id(ref)):
        raise UserError(
            N_(
                "I cannot tell who “{user}” is: name them with a mention or a platform id "
                "(telegram:123456, zalo:…, slack:T…:U…)."
            ),
            user=text,
            example=ROLE_EXAMPLE,
        )
    return (ref.key if ref else text), account


def _platform_id(ref: Ref) -> bool:
    if ref.platform == "slack":
        return bool(ref.workspace) and ref.id[:1] in ("U", "W") and ref.id.isalnum()
    if ref.workspace:
        return False
    return ref.id.isdigit() if ref.platform == "telegram" else not any(c.isspace() for c in ref.id)


def role(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    assert campaign.id is not None
    target = word(ctx, 0, ROLE_EXAMPLE)
    if target.lower() == "revoke":
        return _revoke(ctx, campaign, *_account(ctx, word(ctx, 1, "/role revoke telegram:123456")))
    key, account = _account(ctx, target)
    new_role = word(ctx, 1, ROLE_EXAMPLE).lower()
    if new_role not in ROLE_RANK:
        raise UserError(N_("The role is one of reporter, leader, admin."), example=ROLE_EXAMPLE)
    team = (
        find_team(ctx, campaign, ctx.args.options["team"].lower())
        if "team" in ctx.args.options
        else None
    )
    waiting = queries.pending_role(ctx.session, key, campaign.id) if account is None else None
    has_team = (
        bool(queries.teams_of(ctx.session, account.id, campaign.id))  # type: ignore[arg-type]
        if account is not None
        else bool(waiting and waiting.team_ids)
    )
    if new_role == "reporter" and team is None and not has_team:
        raise UserError(
            N_("A reporter needs a team: add team=."),
            example="/role telegram:123456 reporter team=to1",
        )
    tr = ctx.tr
    if account is None:
        old = queries.set_pending_role(
            ctx.session,
            key,
            campaign.id,
            new_role,
            team.id if team else None,
            ctx.account_id,
            ctx.now(),
        )
        ctx.audit(
            campaign,
            "role.pending",
            user=key,
            old=old,
            new=new_role,
            team=team.code if team else None,
        )
        return Reply(
            tr._(
                "{user} will be {role} in {campaign}: this applies when they first message the "
                "bot.",
                user=key,
                role=tr._(ROLE_NAMES[new_role]),
                campaign=campaign.code,
            )
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
        tr._(
            "{user} is now {role} in {campaign}.",
            user=_name(account),
            role=tr._(ROLE_NAMES[new_role]),
            campaign=campaign.code,
        )
    )


def _revoke(ctx: Ctx, campaign: Campaign, key: str, account: Account | None) -> Reply:
    assert campaign.id is not None
    if account is None:
        return _withdraw(ctx, campaign, key)
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


def _withdraw(ctx: Ctx, campaign: Campaign, key: str) -> Reply:
    """`/role revoke` of someone whose role is still waiting for their first message."""
    assert campaign.id is not None
    waiting = queries.pending_role(ctx.session, key, campaign.id)
    if waiting is None:
        raise UserError(N_("{user} has no role in {campaign}."), user=key, campaign=campaign.code)
    ctx.session.delete(waiting)
    ctx.audit(campaign, "role.revoke", user=key, old=waiting.role, waiting=True)
    return Reply(
        ctx.tr._(
            "The role waiting for {user} in {campaign} is withdrawn.",
            user=key,
            campaign=campaign.code,
        )
    )


def _name(account: Account) -> str:
    return f"{account.display_name} ({account.key})" if account.display_name else account.key
