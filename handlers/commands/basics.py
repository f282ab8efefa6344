"""Commands for everyone: /start, /help, /lang, /me."""

from __future__ import annotations

from handlers.commands.members import redeem
from handlers.engine.command import Access, Command, Group
from handlers.engine.context import ROLE_NAMES, ROLE_RANK, Ctx, check_access
from handlers.errors import N_, UserError
from handlers.language.i18n import LANGUAGES
from handlers.language.report_lines import example_line
from handlers.values import Reply
from storage import queries
from storage.models import Campaign

GROUP_TITLES = {
    Group.EVERYONE: N_("Everyone"),
    Group.REPORTERS: N_("Reporters"),
    Group.LEADERS: N_("Leaders"),
    Group.ADMINS: N_("Administrators"),
}


def start(ctx: Ctx) -> Reply:
    code = ctx.args.word(0)
    if code:  # the Telegram deep link t.me/<bot>?start=<code>
        return redeem(ctx, code)
    tr = ctx.tr
    lines = [
        tr._(
            "Hello {name}! I am tiendo: I record your team's progress and send the "
            "leaders a daily digest.",
            name=ctx.account.display_name or "",
        )
    ]
    try:
        campaign: Campaign | None = ctx.campaign()
    except UserError:  # in no campaign yet, or in several and none chosen here
        campaign = None
    metrics = queries.metrics(ctx.session, campaign.id) if campaign else ()  # type: ignore[arg-type]
    if metrics:  # an example in the campaign's own words: no `hộ` where nobody counts hộ
        lines.append(tr._("Report with {example}.", example=example_line(metrics)))
    elif not ctx.visible_campaigns():
        lines.append(tr._("Join a campaign with /join <code>."))
    lines.append(tr._("See all commands with /help."))
    return Reply(" ".join(lines))


def _allowed(ctx: Ctx, command: Command) -> bool:
    """Whether /help should list it: allowed here, or in any of the user's campaigns."""
    if command.access in (Access.ANYONE, Access.CREATOR):
        try:
            check_access(ctx, command.access)
        except UserError:
            return False
        return True
    needed = {Access.MEMBER: 1, Access.LEADER: 2, Access.ADMIN: 3}[command.access]
    return any(ROLE_RANK[ctx.role(c) or "reporter"] >= needed for c in ctx.visible_campaigns())


def help_(ctx: Ctx) -> Reply:
    tr = ctx.tr
    topic = (ctx.args.word(0) or "").lstrip("/").lower()
    if topic:
        if topic not in ctx.table.topics or ctx.table.topics[topic].hidden:
            raise UserError(N_("There is no command /{command}."), command=topic, example="/help")
        lines = [f"/{topic} — {tr._(ctx.table.topics[topic].summary)}"]
        for command in ctx.table.of_topic(topic):
            lines.append(f"• {command.usage}\n  {tr._(command.summary)}")
            if command.example:
                lines.append("  " + tr._("Example: {example}", example=command.example))
        return Reply("\n".join(lines))
    lines = [tr._("Commands (/help <command> for details):")]
    for group, title in GROUP_TITLES.items():
        topics = [
            t
            for t in ctx.table.visible_topics()
            if t.group is group and any(_allowed(ctx, c) for c in ctx.table.of_topic(t.name))
        ]
        if topics:
            lines.append(f"\n{tr._(title)}:")
            lines.extend(f"/{t.name} — {tr._(t.summary)}" for t in topics)
    return Reply("\n".join(lines))


def lang(ctx: Ctx) -> Reply:
    choice = (ctx.args.word(0) or "").lower()
    if choice not in LANGUAGES:
        raise UserError(N_("Choose vi or en."), example="/lang en")
    ctx.account.language = choice
    ctx.session.add(ctx.account)
    ctx.tr = ctx.tr.switched(choice)
    return Reply(ctx.tr._("I will speak English with you."))


def me(ctx: Ctx) -> Reply:
    tr = ctx.tr
    lines = [
        tr._(
            "You are {name} ({key}); language: {lang}.",
            name=ctx.account.display_name,
            key=ctx.account.key,
            lang=tr.lang,
        )
    ]
    if ctx.is_superadmin:
        lines.append(tr._("You are a superadmin."))
    for membership, campaign in queries.memberships(ctx.session, ctx.account_id):
        teams = ", ".join(t.code for t in ctx.my_teams(campaign)) or "—"
        lines.append(
            tr._(
                "• {campaign}: {role}; teams: {teams}",
                campaign=campaign.code,
                role=tr._(ROLE_NAMES[membership.role]),
                teams=teams,
            )
        )
    if len(lines) == 1 + ctx.is_superadmin:
        lines.append(
            tr._("You are not in any campaign yet. Ask an administrator for an invite code.")
        )
    return Reply("\n".join(lines))
