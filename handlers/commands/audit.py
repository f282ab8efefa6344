"""/audit: the recent configuration changes, retractions and corrections of a campaign, one line
each in the reader's language: when (the campaign's local time), who (display name, else the
platform id), and what in words, with names beside codes. An action without words of its own
still reads as a line: its name and its details."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from handlers.engine.context import ROLE_NAMES, Ctx
from handlers.errors import N_
from handlers.language import numbers
from handlers.language.i18n import Translator
from handlers.read import display
from handlers.values import Reply
from storage import audit as stored
from storage import queries
from storage.models import Account, AuditEvent, Metric, Team, Unit

Detail = dict[str, Any]

SETTINGS = {
    "deadline": N_("deadline"),
    "tz": N_("time zone"),
    "restdays": N_("rest days"),
    "backdate": N_("back-dating days"),
    "name": N_("name"),
}


@dataclass(frozen=True)
class Names:
    """How the keys and codes an event detail holds read, in the reader's language."""

    tr: Translator
    accounts: dict[str, str]
    chats: dict[str, str]
    teams: dict[str, Team]
    units: dict[str, Unit]
    unit_codes: dict[int, str]  # by id: unit.move stores the old parent's id
    metrics: dict[str, Metric]
    invites: dict[str, Team]

    def user(self, key: str) -> str:
        return self.accounts.get(key, key)

    def chat(self, key: str) -> str:
        return self.chats.get(key, key)

    def team(self, code: str) -> str:
        team = self.teams.get(code)
        return display.team_name(team) if team else code

    def unit(self, code: str | None) -> str:
        if code is None:
            return self.tr._("the top level")
        unit = self.units.get(code)
        return f"{unit.name} ({code})" if unit else code

    def unit_by_id(self, unit_id: int | None) -> str:
        return self.unit(self.unit_codes.get(unit_id) if unit_id is not None else None)

    def metric(self, key: str) -> str:
        metric = self.metrics.get(key)
        return f"{display.label(self.tr, metric)} ({key})" if metric else key

    def amount(self, key: str, value: float) -> str:
        metric = self.metrics.get(key)
        return display.value(self.tr, metric, value) if metric else self.tr.number(value)

    def role(self, role: str, team: str | None = None) -> str:
        if team:
            return self.tr._("reporter of {team}", team=self.team(team))
        return self.tr._(ROLE_NAMES[role]) if role in ROLE_NAMES else role


# --- one function per audited action: what happened, in words -------------------------------


def _campaign_new(n: Names, d: Detail) -> str:
    return n.tr._("created the campaign {code} “{name}”", code=d["code"], name=d["name"])


def _campaign_set(n: Names, d: Detail) -> str:
    changes = "; ".join(
        n.tr._("{setting} to {value}", setting=n.tr._(SETTINGS[k]) if k in SETTINGS else k, value=v)
        for k, v in d.items()
    )
    return n.tr._("set {changes}", changes=changes)


def _campaign_close(n: Names, d: Detail) -> str:
    return n.tr._("closed the campaign")


def _metric_add(n: Names, d: Detail) -> str:
    metric, unit = n.metric(d["key"]), display.unit_name(n.tr, d["unit"])
    if d.get("target") is None:
        return n.tr._("added the metric {metric}, counted in {unit}", metric=metric, unit=unit)
    return n.tr._(
        "added the metric {metric}, counted in {unit}, target {target}",
        metric=metric,
        unit=unit,
        target=n.amount(d["key"], d["target"]),
    )


def _metric_target(n: Names, d: Detail) -> str:
    metric, new = n.metric(d["key"]), n.amount(d["key"], d["new"])
    if d.get("old") is None:
        return n.tr._("set the target of {metric} to {new}", metric=metric, new=new)
    return n.tr._(
        "changed the target of {metric} from {old} to {new}",
        metric=metric,
        old=n.amount(d["key"], d["old"]),
        new=new,
    )


def _metric_remove(n: Names, d: Detail) -> str:
    return n.tr._("removed the metric {metric}", metric=n.metric(d["key"]))


def _unit_add(n: Names, d: Detail) -> str:
    unit = f"{d['name']} ({d['code']})"
    if d.get("parent") is None:
        return n.tr._("added the unit {unit}", unit=unit)
    return n.tr._("added the unit {unit} under {parent}", unit=unit, parent=n.unit(d["parent"]))


def _unit_move(n: Names, d: Detail) -> str:
    return n.tr._(
        "moved the unit {unit} from {old} to {new}",
        unit=n.unit(d["code"]),
        old=n.unit_by_id(d.get("old_parent")),
        new=n.unit(d.get("new_parent")),
    )


def _unit_rename(n: Names, d: Detail) -> str:
    return n.tr._(
        "renamed the unit {code} from “{old}” to “{new}”",
        code=d["code"],
        old=d["old"],
        new=d["new"],
    )


def _team_add(n: Names, d: Detail) -> str:
    team = f"{d['name']} ({d['code']})"
    if d.get("unit") is None:
        return n.tr._("added the team {team}", team=team)
    return n.tr._("added the team {team} in {unit}", team=team, unit=n.unit(d["unit"]))


def _team_target(n: Names, d: Detail) -> str:
    team, metric, new = n.team(d["team"]), n.metric(d["metric"]), n.amount(d["metric"], d["new"])
    if d.get("old") is None:
        return n.tr._(
            "set the target of {team} for {metric} to {new}", team=team, metric=metric, new=new
        )
    return n.tr._(
        "changed the target of {team} for {metric} from {old} to {new}",
        team=team,
        metric=metric,
        old=n.amount(d["metric"], d["old"]),
        new=new,
    )


def _team_bind(n: Names, d: Detail) -> str:
    return n.tr._(
        "made every report in {chat} count for {team}",
        chat=n.chat(d["chat"]),
        team=n.team(d["team"]),
    )


def _team_unbind(n: Names, d: Detail) -> str:
    return n.tr._("unbound {chat} from its team", chat=n.chat(d["chat"]))


def _team_import(n: Names, d: Detail) -> str:
    return n.tr._(
        "imported teams from {file}: {created} new, {updated} updated, {units} new units",
        file=d["file"],
        created=d["created"],
        updated=d["updated"],
        units=d["units"],
    )


def _invite_create(n: Names, d: Detail) -> str:
    return n.tr._(
        "created an invite code for {who} ({uses}, valid {days})",
        who=n.role(d["role"], d.get("team")),
        uses=n.tr.ngettext("{n} use", "{n} uses", d["uses"]),
        days=n.tr.ngettext("{n} day", "{n} days", d["days"]),
    )


def _invite_use(n: Names, d: Detail) -> str:
    team = n.invites.get(d["code"])
    return n.tr._(
        "joined as {who} with the invite code {code}",
        who=n.role(d["role"], team.code if team else None),
        code=d["code"],
    )


def _role_set(n: Names, d: Detail) -> str:
    user, role = n.user(d["user"]), n.role(d["new"], d.get("team"))
    if d.get("old") is None:
        return n.tr._("gave the role {role} to {user}", role=role, user=user)
    return n.tr._(
        "changed the role of {user} from {old} to {role}",
        user=user,
        old=n.role(d["old"]),
        role=role,
    )


def _role_pending(n: Names, d: Detail) -> str:
    return n.tr._(
        "gave the role {role} to {user}, waiting for their first message",
        role=n.role(d["new"], d.get("team")),
        user=n.user(d["user"]),
    )


def _role_revoke(n: Names, d: Detail) -> str:
    if d.get("waiting"):
        return n.tr._(
            "withdrew the role {role} waiting for {user}",
            role=n.role(d["old"]),
            user=n.user(d["user"]),
        )
    return n.tr._(
        "removed {user} from the campaign (was {role})",
        user=n.user(d["user"]),
        role=n.role(d["old"]),
    )


def _digest_here(n: Names, d: Detail) -> str:
    return n.tr._(
        "subscribed {chat} to the daily digest at {at}", chat=n.chat(d["chat"]), at=d["at"]
    )


def _digest_off(n: Names, d: Detail) -> str:
    return n.tr._("turned the daily digest off in {chat}", chat=n.chat(d["chat"]))


def _digest_time(n: Names, d: Detail) -> str:
    return n.tr._("moved the daily digest in {chat} to {at}", chat=n.chat(d["chat"]), at=d["at"])


def _remind_at(n: Names, d: Detail) -> str:
    return n.tr._("set the reminder to teams that have not reported at {at}", at=d["at"])


def _remind_off(n: Names, d: Detail) -> str:
    return n.tr._("turned the reminders off")


def _report_retract(n: Names, d: Detail) -> str:
    return n.tr._("retracted report #{id}", id=d["report"])


def _report_correct(n: Names, d: Detail) -> str:
    return n.tr._(
        "corrected report #{id} with report #{correction}",
        id=d["report"],
        correction=d["correction"],
    )


ACTIONS: dict[str, Callable[[Names, Detail], str]] = {
    "campaign.new": _campaign_new,
    "campaign.set": _campaign_set,
    "campaign.close": _campaign_close,
    "metric.add": _metric_add,
    "metric.target": _metric_target,
    "metric.remove": _metric_remove,
    "unit.add": _unit_add,
    "unit.move": _unit_move,
    "unit.rename": _unit_rename,
    "team.add": _team_add,
    "team.target": _team_target,
    "team.bind": _team_bind,
    "team.unbind": _team_unbind,
    "team.import": _team_import,
    "invite.create": _invite_create,
    "invite.use": _invite_use,
    "role.set": _role_set,
    "role.pending": _role_pending,
    "role.revoke": _role_revoke,
    "digest.here": _digest_here,
    "digest.off": _digest_off,
    "digest.time": _digest_time,
    "remind.at": _remind_at,
    "remind.off": _remind_off,
    "report.retract": _report_retract,
    "report.correct": _report_correct,
}


def _detail(event: AuditEvent) -> Detail:
    try:
        detail = json.loads(event.detail or "{}")
    except ValueError:
        return {"detail": event.detail}
    return detail if isinstance(detail, dict) else {"detail": detail}


def what(names: Names, action: str, detail: Detail) -> str:
    describe = ACTIONS.get(action)
    try:
        if describe is not None:
            return describe(names, detail)
    except KeyError:
        pass  # an event written before its detail had that key: show it as it is
    details = ", ".join(f"{key} {value}" for key, value in detail.items() if value is not None)
    if not details:
        return names.tr._("did “{action}”", action=action)
    return names.tr._("did “{action}”: {details}", action=action, details=details)


def _names(ctx: Ctx, campaign_id: int, details: list[Detail]) -> Names:
    def mentioned(key: str) -> set[str]:
        return {d[key] for d in details if isinstance(d.get(key), str)}

    session = ctx.session
    units = queries.units(session, campaign_id)
    return Names(
        tr=ctx.tr,
        accounts=stored.account_names(session, mentioned("user")),
        chats=stored.chat_titles(session, mentioned("chat")),
        teams={t.code: t for t in queries.teams(session, campaign_id)},
        units={u.code: u for u in units},
        unit_codes={u.id: u.code for u in units if u.id is not None},
        metrics={m.key: m for m in queries.metrics(session, campaign_id, active_only=False)},
        invites=stored.invite_teams(session, campaign_id, mentioned("code")),
    )


def _who(account: Account | None) -> str:
    if account is None:
        return "—"
    return account.display_name or account.key


def audit(ctx: Ctx) -> Reply:
    campaign = ctx.campaign()
    assert campaign.id is not None
    count = numbers.whole_number(
        ctx.args.word(0) or "20", name="/audit", low=1, high=200, example="/audit 50"
    )
    events = stored.recent(ctx.session, campaign.id, count)
    tr = ctx.tr
    if not events:
        return Reply(tr._("Nothing changed in {campaign} yet.", campaign=campaign.code))
    details = [_detail(event) for event, _ in events]
    names = _names(ctx, campaign.id, details)
    zone = ZoneInfo(campaign.timezone)
    lines = [
        tr._(
            "Latest changes in {campaign} (times in {zone}):",
            campaign=campaign.code,
            zone=campaign.timezone,
        )
    ]
    for (event, actor), detail in zip(events, details, strict=True):
        local = event.created_at.astimezone(zone)
        when = f"{tr.short_date(local.date())} {local:%H:%M}"
        lines.append(f"• {when} · {_who(actor)}: {what(names, event.action, detail)}")
    return Reply("\n".join(lines))
