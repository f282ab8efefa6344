"""What a handler gets: the request, the open unit of work, the clock, the reader's translator,
and the resolved account and chat, with the campaign and role rules of the spec (§3)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from handlers.clock import Clock
from handlers.engine.command import Access, CommandTable
from handlers.errors import N_, Refused, UserError
from handlers.language.args import Args
from handlers.language.calendar import local_today
from handlers.language.i18n import Translator
from handlers.values import Request
from storage import queries
from storage.limits import limit
from storage.models import Account, AuditEvent, Campaign, Chat, Membership, Team

AUDIT_DETAIL = limit(AuditEvent, "detail") or 2000
ROLE_RANK = {"reporter": 1, "leader": 2, "admin": 3}
ROLE_NAMES = {"reporter": N_("reporter"), "leader": N_("leader"), "admin": N_("admin")}


@dataclass
class Settings:
    superadmins: frozenset[str] = frozenset()
    default_language: str = "vi"
    default_timezone: str = "Asia/Ho_Chi_Minh"
    # "https://t.me/<bot>?start=" when a Telegram bot is configured: invite codes come with a
    # link that joins in one tap.
    deep_link_base: str | None = None


@dataclass
class Ctx:
    request: Request
    session: Session
    clock: Clock
    tr: Translator
    settings: Settings
    table: CommandTable
    account: Account
    chat: Chat
    args: Args = field(default_factory=Args)
    _campaign: Campaign | None = None
    # The actor's memberships by campaign id, once read (the rows themselves, so a role the
    # command changes reads changed).
    _memberships: dict[int, Membership] | None = None

    # --- identity and roles -------------------------------------------------------------
    @property
    def account_id(self) -> int:
        assert self.account.id is not None
        return self.account.id

    @property
    def is_superadmin(self) -> bool:
        return self.account.key in self.settings.superadmins

    def role(self, campaign: Campaign) -> str | None:
        if self.is_superadmin:
            return "admin"
        assert campaign.id is not None
        known = self._memberships or {}
        membership = known.get(campaign.id) or queries.membership(
            self.session, self.account_id, campaign.id
        )
        return membership.role if membership else None

    def role_name(self, role: str) -> str:
        """`reporter` as the reader says it: tổ viên."""
        return self.tr._(ROLE_NAMES[role])

    def my_teams(self, campaign: Campaign) -> list[Team]:
        assert campaign.id is not None
        return list(queries.teams_of(self.session, self.account_id, campaign.id))

    def visible_campaigns(self) -> list[Campaign]:
        if self.is_superadmin:
            return list(queries.all_campaigns(self.session))
        rows = queries.memberships(self.session, self.account_id)
        self._memberships = {c.id: m for m, c in rows if c.id is not None}
        return [c for _, c in rows]

    # --- the campaign a command acts on -------------------------------------------------
    def campaign(self) -> Campaign:
        """The chat's active campaign, else the user's only campaign, else an error that
        lists the choices (SPEC §3, team and campaign resolution)."""
        if self._campaign is not None:
            return self._campaign
        mine = self.visible_campaigns()
        if self.chat.campaign_id is not None:
            active = self.session.get(Campaign, self.chat.campaign_id)
            if active is not None:
                if active not in mine:
                    # Never fall back to another campaign of theirs: in a shared group that
                    # would act on a campaign the group does not see.
                    raise Refused(
                        N_("This chat uses campaign {campaign}, in which you have no role."),
                        campaign=active.code,
                        example="/campaign list",
                    )
                self._campaign = active
                return active
        if len(mine) == 1:
            self._campaign = mine[0]
            return mine[0]
        if not mine and self.is_superadmin:
            raise UserError(
                N_("There is no campaign yet. Create the first one."),
                example='/campaign new duong "Đường thôn Đông" deadline=2027-06-30',
            )
        if not mine:
            raise Refused(
                N_("You are not in any campaign yet. Ask an administrator for an invite code."),
                example="/join ABCD-EFGH-JKLMN",
            )
        raise UserError(
            N_("You take part in several campaigns ({choices}). Choose one for this chat."),
            choices=", ".join(c.code for c in mine),
            example=f"/campaign use {mine[0].code}",
        )

    def require(self, campaign: Campaign, *allowed: str) -> str:
        role = self.role(campaign)
        if role is None:
            raise Refused(
                N_("You are not a member of campaign {campaign}."), campaign=campaign.code
            )
        if role not in allowed:
            raise Refused(
                N_("Your role in {campaign} is {role}; this needs: {allowed}."),
                campaign=campaign.code,
                role=self.role_name(role),
                allowed=", ".join(map(self.role_name, allowed)),
            )
        return role

    # --- time ---------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def today(self, campaign: Campaign) -> date:
        return local_today(campaign, self.clock.now())

    # --- audit --------------------------------------------------------------------------
    def audit(self, campaign: Campaign | None, action: str, **detail: object) -> None:
        text = json.dumps(detail, ensure_ascii=False, default=str)
        if len(text) > AUDIT_DETAIL:  # the record, not the input: long values are shortened
            short = {k: v if len(str(v)) <= 100 else str(v)[:100] + "…" for k, v in detail.items()}
            text = json.dumps(short, ensure_ascii=False, default=str)[:AUDIT_DETAIL]
        self.session.add(
            AuditEvent(
                campaign_id=campaign.id if campaign else None,
                actor_id=self.account_id,
                action=action,
                detail=text,
                created_at=self.now(),
            )
        )


def check_access(ctx: Ctx, access: Access) -> None:
    if access is Access.ANYONE:
        return
    if access is Access.CREATOR:
        if not (ctx.is_superadmin or queries.is_admin_anywhere(ctx.session, ctx.account_id)):
            raise Refused(N_("Only superadmins and campaign administrators can create campaigns."))
        return
    allowed = {
        Access.MEMBER: ("reporter", "leader", "admin"),
        Access.LEADER: ("leader", "admin"),
        Access.ADMIN: ("admin",),
    }[access]
    ctx.require(ctx.campaign(), *allowed)
