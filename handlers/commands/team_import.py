"""Bulk creation of units and teams from a CSV file, all or nothing.

Columns (header row required, any order; `;` or tab also accepted as separators):
`code,name` for the team, then optional `unit` (unit code), `unit_name` and `parent_unit` to
create the unit on the fly, and `target:<metric>` columns for per-team targets. A row without a
team code only creates its unit, so one file can hold a whole tree of any depth (city →
communes → villages), parents before or after their children. An existing team with the same
code is updated. Every bad row is reported with its line number and, if there is any, nothing
is imported. Everything is written in a few bulk statements, whatever the file's size."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from sqlmodel import Session

from handlers.commands.common import CODE
from handlers.errors import N_, UserError
from handlers.language import numbers
from handlers.language.args import clean
from handlers.language.i18n import Translator
from storage import progress, queries
from storage.limits import limit
from storage.models import Campaign, Team, TeamTarget, Unit

MAX_ROWS = 50_000
NAME_LIMIT = min(limit(Team, "name") or 200, limit(Unit, "name") or 200)
MAX_ERRORS_SHOWN = 20
EXAMPLE = "code,name,unit,unit_name,parent_unit,target:households"


def _rows(content: bytes) -> list[dict[str, str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(
            N_("The file is not UTF-8 text; save it as “CSV UTF-8”."), example=EXAMPLE
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "code" not in fields or "name" not in fields:
        raise UserError(
            N_("The first row must name the columns, with at least code and name."), example=EXAMPLE
        )
    reader.fieldnames = fields
    rows = [{k: clean(v or "").strip() for k, v in row.items() if k} for row in reader]
    if len(rows) > MAX_ROWS:
        raise UserError(
            N_("The file has {count} rows; at most {limit} at a time."),
            count=len(rows),
            limit=MAX_ROWS,
            example=EXAMPLE,
        )
    return rows


def import_csv(
    session: Session, tr: Translator, campaign: Campaign, content: bytes
) -> tuple[int, int, int]:
    """Returns (teams created, teams updated, units created)."""
    assert campaign.id is not None
    rows = _rows(content)
    metrics = {m.key: m for m in queries.metrics(session, campaign.id)}
    units = {u.code: u for u in queries.units(session, campaign.id)}
    new_units: dict[str, tuple[str, str]] = {}  # code → (name, parent code), from this file
    errors: list[str] = []
    seen: set[str] = set()
    planned: list[tuple[str, str, str, dict[int, float]]] = []
    referred: dict[str, int] = {}  # unit code → the first line that names it without defining
    for line, row in enumerate(rows, start=2):  # line 1 is the header

        def bad(message: str, **params: object) -> None:
            errors.append(tr._("line {line}: ", line=line) + tr._(message, **params))  # noqa: B023

        team_code, name = row.get("code", "").lower(), row.get("name", "")
        unit_code = row.get("unit", "").lower()
        if not team_code and not name and unit_code:  # a unit of the tree, no team
            if _plan_unit(row, unit_code, units, new_units, bad):
                referred.setdefault(unit_code, line)
            continue
        if not CODE.match(team_code):
            bad(
                N_("“{token}” is not a valid code: use up to 32 letters a–z, digits, - or _."),
                token=team_code,
            )
        elif team_code in seen:
            bad(N_("team {code} appears twice"), code=team_code)
        seen.add(team_code)
        if not name:
            bad(N_("the name is empty"))
        elif len(name) > NAME_LIMIT:
            bad(
                N_("the name has {length} characters; at most {limit}"),
                length=len(name),
                limit=NAME_LIMIT,
            )
        if unit_code and _plan_unit(row, unit_code, units, new_units, bad):
            referred.setdefault(unit_code, line)
        targets: dict[int, float] = {}
        for column, value in row.items():
            if not column.startswith("target:") or not value:
                continue
            metric = metrics.get(column.removeprefix("target:"))
            if metric is None:
                bad(N_("there is no metric “{token}”"), token=column.removeprefix("target:"))
                continue
            try:
                targets[metric.id] = numbers.parse_amount(value).value  # type: ignore[index]
            except UserError as error:
                bad(error.message, **error.params)
        planned.append((team_code, name, unit_code, targets))
    errors += [
        tr._("line {line}: ", line=line)
        + tr._("unit {code} does not exist; give its unit_name to create it", code=code)
        for code, line in referred.items()
        if code not in new_units
    ]
    for unit_code, (_, parent) in new_units.items():
        if parent and parent not in units and parent not in new_units:
            errors.append(
                tr._(
                    "unit {code}: parent unit {parent} does not exist",
                    code=unit_code,
                    parent=parent,
                )
            )
    errors += [
        tr._("units {chain}: each would be under the next, round in a circle", chain=chain)
        for chain in _cycles(new_units)
    ]
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN] + (["…"] if len(errors) > MAX_ERRORS_SHOWN else [])
        raise UserError(
            N_("The file has {count} errors; nothing was imported.\n{errors}"),
            count=len(errors),
            errors="\n".join(shown),
            example=EXAMPLE,
        )

    for unit_code, (unit_name, _) in new_units.items():
        units[unit_code] = Unit(campaign_id=campaign.id, code=unit_code, name=unit_name)
    session.add_all(units[code] for code in new_units)
    session.flush()  # one INSERT for every unit; then their parents, now that all have ids
    for unit_code, (_, parent) in new_units.items():
        units[unit_code].parent_id = units[parent].id if parent else None
    existing = {team.code: team for team in queries.teams(session, campaign.id)}
    updated = [existing[code].id for code, *_ in planned if code in existing]
    old_targets = progress.team_targets(session, updated)  # type: ignore[arg-type]
    teams: list[Team] = []
    for team_code, name, unit_code, _ in planned:
        team = existing.get(team_code) or Team(campaign_id=campaign.id, code=team_code, name=name)
        team.name = name
        if unit_code:
            team.unit_id = units[unit_code].id
        teams.append(team)
    session.add_all(teams)
    session.flush()
    for team, (_, _, _, targets) in zip(teams, planned, strict=True):
        for metric_id, value in targets.items():
            if (team.id, metric_id) in old_targets:
                row_target = session.get(TeamTarget, (team.id, metric_id))
                assert row_target is not None
                row_target.target = value
            else:
                row_target = TeamTarget(team_id=team.id, metric_id=metric_id, target=value)  # type: ignore[arg-type]
            session.add(row_target)
    return len(planned) - len(updated), len(updated), len(new_units)


def _plan_unit(
    row: dict[str, str],
    unit_code: str,
    units: dict[str, Unit],
    new_units: dict[str, tuple[str, str]],
    bad: Callable[..., None],
) -> bool:
    """Note a unit the row names: one that exists is used as it is; a row with its unit_name
    defines a new one, with the same parent wherever it is given. Returns whether the unit is
    only referred to here, to be checked once every row is read (its row may come later)."""
    if unit_code in units:
        return False
    unit_name, parent = row.get("unit_name", ""), row.get("parent_unit", "").lower()
    if not CODE.match(unit_code):
        bad(
            N_("“{token}” is not a valid code: use up to 32 letters a–z, digits, - or _."),
            token=unit_code,
        )
    elif unit_code in new_units:
        known = new_units[unit_code][1]
        if parent and parent != known:
            bad(
                N_("unit {code} is given two parents: {first} and {second}"),
                code=unit_code,
                first=known or "—",
                second=parent,
            )
    elif len(unit_name) > NAME_LIMIT:
        bad(
            N_("the name has {length} characters; at most {limit}"),
            length=len(unit_name),
            limit=NAME_LIMIT,
        )
    elif unit_name:
        new_units[unit_code] = (unit_name, parent)
    else:
        return True
    return False


def _cycles(new_units: dict[str, tuple[str, str]]) -> list[str]:
    """Each circle of parents among the file's new units, as `ua → ub → ua`. Existing units
    cannot be under a new one, so a chain that reaches one has ended."""
    found: list[str] = []
    done: set[str] = set()
    for start in new_units:
        chain: list[str] = []
        node = start
        while node in new_units and node not in done and node not in chain:
            chain.append(node)
            node = new_units[node][1]
        if node in chain:  # came round: the circle is the part of the chain from `node` on
            circle = chain[chain.index(node) :]
            found.append(" → ".join([*circle, node]))
        done |= set(chain)
    return found
