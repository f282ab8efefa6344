"""SQLModel tables: one class per concept of the product spec (§2), plus running totals.

Times are stored as naive UTC (`datetime`), report dates as the campaign's local calendar date.
Nothing a user reported is ever deleted: retractions flip a status and leave an audit event,
corrections are new rows pointing at the report they correct."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, Column, Index, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

ROLES = ("reporter", "leader", "admin")


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    start_date: date
    deadline: date | None = None
    timezone: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)
    # ISO weekdays (1 = Monday … 7 = Sunday) and ISO dates on which no report is expected.
    rest_weekdays: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rest_dates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    backdate_days: int = 7
    status: str = Field(default="active", max_length=16)  # active | closed
    created_at: datetime


class Metric(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    key: str = Field(max_length=32)
    label_vi: str = Field(max_length=100)
    label_en: str = Field(max_length=100)
    unit: str = Field(max_length=32)
    target: float | None = None
    max_per_report: float | None = None
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Counted units take whole numbers; `decimals=yes` at /metric add lets reports say 1,5.
    decimals: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    position: int = 0
    # Removed metrics stay for the reports that reference them; they just stop being offered.
    active: bool = True


class Unit(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)


class TeamTarget(SQLModel, table=True):
    __tablename__ = "team_target"
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", primary_key=True)
    target: float


class Account(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)  # telegram:42, slack:T01:U02, shell:admin
    display_name: str = Field(default="", max_length=200)
    language: str | None = Field(default=None, max_length=8)
    created_at: datetime


class Membership(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("account_id", "campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    role: str = Field(max_length=16)  # reporter | leader | admin


class PendingRole(SQLModel, table=True):
    """A role given with /role to someone who has not written to the bot yet: it waits for the
    account of that key and becomes its membership (and teams) on its first contact."""

    __tablename__ = "pending_role"
    __table_args__ = (UniqueConstraint("key", "campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128)  # the account key it waits for: telegram:42, slack:T1:U2
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    role: str = Field(max_length=16)
    # Teams add up, as they do for an account: /role … team=t1, then team=t2.
    team_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int = Field(foreign_key="account.id")
    created_at: datetime


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_member"
    account_id: int = Field(foreign_key="account.id", primary_key=True)
    team_id: int = Field(foreign_key="team.id", primary_key=True, index=True)


class Chat(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=128, unique=True)  # telegram:-100123, slack:T01:C02, shell:#road
    title: str = Field(default="", max_length=200)
    is_group: bool = False
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id")  # active campaign
    team_id: int | None = Field(default=None, foreign_key="team.id")  # every report here is theirs
    created_at: datetime


class Report(SQLModel, table=True):
    __table_args__ = (
        Index("ix_report_reporter_created", "reporter_id", "created_at"),
        Index("ix_report_campaign_date", "campaign_id", "report_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    team_id: int = Field(foreign_key="team.id", index=True)
    reporter_id: int = Field(foreign_key="account.id")
    report_date: date
    note: str | None = Field(default=None, max_length=1000)
    photo_ref: str | None = Field(default=None, max_length=300)
    source: str = Field(max_length=16)  # telegram | slack | shell
    source_chat: str = Field(max_length=128)
    # The delivered message this report came from; unique so a redelivery is recorded once.
    source_message_id: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime
    status: str = Field(default="active", max_length=16)  # active | retracted
    corrects_id: int | None = Field(default=None, foreign_key="report.id")
    retracted_at: datetime | None = None
    retracted_by_id: int | None = Field(default=None, foreign_key="account.id")


class ReportValue(SQLModel, table=True):
    __tablename__ = "report_value"
    report_id: int = Field(foreign_key="report.id", primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", primary_key=True, index=True)
    value: float


class CampaignDayTotal(SQLModel, table=True):
    """Running total of active report values per metric and local report date, kept in the
    same transaction as each report, so progress never scans the report table. A day's total
    is split over a few rows by team (`shard`, see storage/reports.py), read as their sum: one
    row would make every report of a campaign wait for the one before it to commit."""

    __tablename__ = "campaign_day_total"
    metric_id: int = Field(foreign_key="metric.id", primary_key=True)
    day: date = Field(primary_key=True)
    shard: int = Field(default=0, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    total: float = 0.0


class TeamTotal(SQLModel, table=True):
    """Running total per team and metric over all active reports."""

    __tablename__ = "team_total"
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", primary_key=True)
    total: float = 0.0


class TeamDay(SQLModel, table=True):
    """How many active reports a team has for a local date: who reported today, who is silent."""

    __tablename__ = "team_day"
    # Who reported on a day is read by campaign and day, among a year of every team's days.
    __table_args__ = (Index("ix_team_day_campaign_day", "campaign_id", "day"),)
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    day: date = Field(primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    reports: int = 0


class TeamLastReport(SQLModel, table=True):
    """The local date of each team's latest active report, kept with the running totals, so
    who is silent is read from one row per team instead of from every team's days."""

    __tablename__ = "team_last_report"
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    day: date


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    role: str = Field(max_length=16)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    max_uses: int = 1
    uses: int = 0
    expires_at: datetime
    created_by_id: int = Field(foreign_key="account.id")
    created_at: datetime


class JoinFailure(SQLModel, table=True):
    """A /join with a code that is unknown, expired or used up. Counted per account over a few
    minutes to slow down guessing, in the database so the count holds across instances."""

    __tablename__ = "join_failure"
    __table_args__ = (Index("ix_join_failure_account_at", "account_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    at: datetime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    action: str = Field(max_length=64)  # "metric.add", "report.retract", …
    detail: str = Field(default="", max_length=2000)
    created_at: datetime


class PendingAction(SQLModel, table=True):
    """A command waiting for its author's confirmation (a value over a metric's maximum).
    Kept in the database so any instance can complete it and nothing lives only in memory."""

    __tablename__ = "pending_action"
    token: str = Field(primary_key=True, max_length=16)
    account_id: int = Field(foreign_key="account.id")
    chat_key: str = Field(max_length=128)
    command: str = Field(max_length=4000)
    created_at: datetime
    expires_at: datetime


class DigestSubscription(SQLModel, table=True):
    """A chat that receives a campaign's daily digest at a local time."""

    __tablename__ = "digest_subscription"
    __table_args__ = (UniqueConstraint("chat_id", "campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chat.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    at: time  # in the campaign's time zone
    enabled: bool = True
    # Why it stopped (the bot was blocked or removed), so admins can be told and it can resume.
    disabled_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime


class DigestDelivery(SQLModel, table=True):
    """One digest for one subscription and local date. The unique key is the claim: whoever
    inserts the row sends it, so it goes out at most once across restarts and instances."""

    __tablename__ = "digest_delivery"
    __table_args__ = (UniqueConstraint("subscription_id", "local_date"),)

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="digest_subscription.id", index=True)
    local_date: date
    claimed_at: datetime
    claimed_by: str = Field(max_length=64)  # the instance that claimed it
    late: bool = False
    attempts: int = 0
    status: str = Field(default="claimed", max_length=16)  # claimed | sent | failed
    # Until when the claim holds: an instance that died lets it run out, and another sends the
    # digest (marked late); a failed attempt sets it to when to try again.
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    error: str | None = Field(default=None, max_length=500)


class Reminder(SQLModel, table=True):
    """A campaign's daily nudge to teams that have not reported by a local time."""

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    at: time
    enabled: bool = True


class ReminderDelivery(SQLModel, table=True):
    __tablename__ = "reminder_delivery"

    team_id: int = Field(foreign_key="team.id", primary_key=True)
    local_date: date = Field(primary_key=True)
    sent_at: datetime


def _open_rows(name: str, closed: str, *columns: str) -> Index:
    """An index of only the rows still open (`closed` is NULL): small, whatever is kept."""
    where = text(f"{closed} IS NULL")
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


class Delivery(SQLModel, table=True):
    """Something a platform delivered (a Telegram update, a Slack command or button press, a
    Zalo message), stored before the platform is told it arrived (the polling offset, the
    webhook's 200, Slack's ack): a crash loses nothing, and the unique key makes a redelivery a
    no-op. An instance claims a row with a lease before handling it; a lease that runs out (the
    instance died) lets another take it. Only the oldest open row of a chat is claimed, so a
    chat's messages are handled in order across every instance."""

    __table_args__ = (
        UniqueConstraint("source", "key"),
        # Each chat's next one, and the claims' candidates.
        _open_rows("ix_delivery_open_by_chat", "done_at", "source", "chat", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)  # the bot that received it: "telegram:<bot id>"
    key: str = Field(max_length=200)  # the platform's id of it: update id, message id, trigger id
    chat: str = Field(default="", max_length=128)  # handled in order within a chat
    payload: str  # as delivered (JSON)
    received_at: datetime
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    attempts: int = 0  # claims so far: a delivery that keeps failing is given up
    done_at: datetime | None = None
    error: str | None = Field(default=None, max_length=500)


class Outgoing(SQLModel, table=True):
    """A message to send, written in the same transaction as the command it answers: it is
    sent once across instances (claimed with a lease, marked sent), and repeated at most for
    the one message in flight when an instance dies."""

    __table_args__ = (
        Index("ix_outgoing_open", "sent_at", "platform", "not_before", "id"),
        # Each target's next message (storage/leases.py).
        _open_rows("ix_outgoing_open_by_target", "sent_at", "platform", "target", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    target: str = Field(max_length=128)  # the chat's (or, for a private message, user's) key
    payload: str  # the reply and the adapter's hints (JSON; images base64)
    created_at: datetime
    not_before: datetime  # a retry waits until then
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    attempts: int = 0
    sent_at: datetime | None = None  # also set when given up (status says which)
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    error: str | None = Field(default=None, max_length=500)


class Prompt(SQLModel, table=True):
    """What the bot asked one user in one chat and waits for an answer to: numbered choices
    (Zalo, which has no buttons), or a guided form's progress (Zalo, Telegram). In the
    database, so the answer works after a restart and on whichever instance receives it."""

    chat_key: str = Field(primary_key=True, max_length=128)
    user_key: str = Field(primary_key=True, max_length=128)
    kind: str = Field(max_length=16)  # choices | form | closed (replaced by a later reply)
    state: str  # JSON: the choices' commands, or the form with its answers so far
    updated_at: datetime
    expires_at: datetime = Field(index=True)


class Media(SQLModel, table=True):
    """A chart or an export served at an unguessable address that expires, for platforms that
    fetch images by URL and carry no files (Zalo). The bytes are here, so any instance serves
    them."""

    token: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    mime_type: str = Field(max_length=100)
    content: bytes
    created_at: datetime
    expires_at: datetime = Field(index=True)
