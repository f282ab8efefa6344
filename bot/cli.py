"""`tiendo`: the one entry point (SPEC §4).

Each command imports what it needs when it runs: `--help`, `shell` or `import-teams` must not
pay for the composition root's scheduler, the chart library or a platform's SDK."""

from __future__ import annotations

import sys
from contextlib import nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from bot.config import Config, ConfigError, load_config
from bot.logs import setup_logging
from bot.shell import Shell, line_editing
from handlers.values import Attachment, Ref, Reply, Request

if TYPE_CHECKING:
    from bot.app import App

cli = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="tiendo: campaign progress reports from Zalo, Telegram, Slack or a shell.",
)
db_cli = typer.Typer(no_args_is_help=True, help="Database maintenance.")
cli.add_typer(db_cli, name="db")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Config file (default ./config.toml if present)."),
]
# The operator at the terminal acts as the shell's first local user, a superadmin.
OPERATOR = "shell:admin"


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as error:
        typer.echo(f"config: {error}", err=True)
        raise typer.Exit(2) from None


def _build(config: Config, **options: Any) -> App:
    """The app, or one line naming the database (without its password) if it does not answer,
    instead of a driver's traceback."""
    from bot.app import build
    from storage.db import ReadOnly, Unreachable

    try:
        return build(config, **options)
    except Unreachable as error:
        from handlers.language.i18n import Catalogs

        tr = Catalogs().translator(config.defaults.language)
        if isinstance(error, ReadOnly):  # it answers: "cannot reach" would send them looking
            line = tr._("Database: cannot write to {database}", database=str(error))
        else:
            line = tr._("Database: cannot reach {database}", database=str(error))
        typer.echo(line, err=True)
        raise typer.Exit(1) from None


def _operator_app(config_path: Path | None) -> App:
    return _build(_config(config_path), superadmins=(OPERATOR,))


def _as_operator(
    app: App,
    campaign: str,
    command: str,
    args: str = "",
    attachment: Attachment | None = None,
) -> Reply:
    """Run one command as the operator in a private CLI chat bound to `campaign`."""
    user, chat = Ref.parse(OPERATOR), Ref("shell", "", "cli")
    used = app.engine.handle(Request(user, chat, "campaign", f"use {campaign}"))
    if used.is_error:
        typer.echo(used.text, err=True)
        raise typer.Exit(1)
    reply = app.engine.handle(Request(user, chat, command, args, attachment=attachment))
    typer.echo(reply.text, err=reply.is_error)
    if reply.is_error:
        raise typer.Exit(1)
    return reply


@cli.command()
def shell(
    config: ConfigOption = None,
    user: Annotated[str, typer.Option("--as", help="Local user to start as.")] = "admin",
) -> None:
    """A local chat in the terminal on the configured database: no token, no network."""

    app = _operator_app(config)
    interactive = sys.stdin.isatty()

    def readline(prompt: str) -> str | None:
        if not interactive:
            line = sys.stdin.readline()
            return line.rstrip("\n") if line else None
        while True:
            try:
                return input(prompt)
            except KeyboardInterrupt:  # Ctrl-C drops the line being typed, as in bash
                typer.echo()
            except EOFError:  # Ctrl-D leaves, on a line of its own
                typer.echo()
                return None

    if interactive:
        tr = app.engine.translator(app.config.defaults.language)
        typer.echo(tr._("tiendo shell — /help for commands, :help for the shell, :quit to leave."))
    # The typed lines are kept in the home folder, as ~/.bash_history is.
    with line_editing(Path.home() / ".tiendo_history") if interactive else nullcontext():
        Shell(
            app.engine,
            app.config.files.dir,
            sys.stdout,
            readline,
            user=user,
            chat="@" + user,
            echo=not interactive,
        ).run()


@cli.command()
def demo(
    config: ConfigOption = None,
    seed: Annotated[int, typer.Option(help="Random seed of the generated history.")] = 7,
) -> None:
    """Create a realistic demo campaign with two months of history, print its progress and
    write today's digest (text and charts) to the files folder."""
    from bot.demo import create_demo

    app = _operator_app(config)
    code = create_demo(app, seed=seed)
    _as_operator(app, code, "progress", "by=unit")
    out = app.config.files.dir / "demo-digest"
    tr = app.engine.translator(app.config.defaults.language)
    typer.echo("\n" + tr._("Today's digest, as the leaders get it, in {out}:", out=out))
    for path in _write_digest(app, code, None, app.config.defaults.language, out):
        typer.echo(str(path))


@cli.command("import-teams")
def import_teams(
    csv_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    campaign: Annotated[str, typer.Option(help="Campaign code.")],
    config: ConfigOption = None,
) -> None:
    """Create or update units and teams from a CSV file (all or nothing)."""
    app = _operator_app(config)
    attachment = Attachment(csv_file.name, csv_file.read_bytes(), "text/csv")
    _as_operator(app, campaign, "team", "import", attachment)


@cli.command()
def export(
    campaign: Annotated[str, typer.Option(help="Campaign code.")],
    out: Annotated[Path, typer.Option(help="Folder to write the file to.")] = Path("."),
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    start: Annotated[str | None, typer.Option("--from", help="First date.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last date.")] = None,
    config: ConfigOption = None,
) -> None:
    """Write every report value of a campaign to a CSV or XLSX file."""
    app = _operator_app(config)
    args = " ".join([fmt] + [f"{k}={v}" for k, v in (("from", start), ("to", end)) if v])
    reply = _as_operator(app, campaign, "export", args)
    out.mkdir(parents=True, exist_ok=True)
    for file in reply.files:
        (out / file.name).write_bytes(file.content)
        typer.echo(str(out / file.name))


@cli.command("digest")
def digest_command(
    campaign: Annotated[str, typer.Option(help="Campaign code.")],
    out: Annotated[Path, typer.Option(help="Folder to write the text and charts to.")],
    day: Annotated[
        datetime | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            help="The digest's date (default today); team standings are always today's.",
        ),
    ] = None,
    lang: Annotated[
        Literal["vi", "en"] | None, typer.Option(help="Language (default from the config).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Render a campaign's daily digest (text and PNG charts) without posting it."""
    app = _operator_app(config)
    language = lang or app.config.defaults.language
    for path in _write_digest(app, campaign, day.date() if day else None, language, out):
        typer.echo(str(path))


def _write_digest(app: App, code: str, day: date | None, lang: str, out: Path) -> list[Path]:
    """The digest of campaign `code` on `day` (default: today where the campaign is) as a text
    file and its charts in `out`; returns their paths."""
    try:
        reply, day = app.digests.render_campaign(code, day, lang)
    except LookupError:
        tr = app.engine.translator(app.config.defaults.language)
        typer.echo(tr._("There is no campaign “{code}”.", code=code), err=True)
        raise typer.Exit(1) from None
    out.mkdir(parents=True, exist_ok=True)
    text = out / f"digest-{code.lower()}-{day.isoformat()}.txt"
    text.write_text(reply.text + "\n", "utf-8")
    paths = [text]
    for image in reply.images:
        paths.append(out / image.name)
        paths[-1].write_bytes(image.content)
    return paths


@cli.command()
def run(config: ConfigOption = None) -> None:
    """Run the configured adapters, the shared HTTP server and the scheduler (migrations are
    applied first)."""
    import asyncio

    from bot.runtime import Runtime, run_until_signalled

    settings = _config(config)
    platforms = [getattr(settings, name) for name in ("zalo", "telegram", "slack")]
    problems = [p for platform in platforms if platform.enabled for p in platform.problems()]
    if problems:
        typer.echo("config: " + "; ".join(problems), err=True)
        raise typer.Exit(2)
    if not any(platform.enabled for platform in platforms):
        typer.echo(
            "Nothing to run: configure [zalo], [telegram] or [slack] in the config file. "
            "For a local chat without any token, use `tiendo shell`.",
            err=True,
        )
        raise typer.Exit(2)
    app = _build(settings, adapters=True)
    asyncio.run(run_until_signalled(Runtime(app)))


@cli.command("slack-manifest")
def slack_manifest(
    url: Annotated[
        str | None,
        typer.Option(
            help="Public HTTPS address of `tiendo run` (its [server] behind the reverse "
            "proxy); Slack posts to <url>/slack/events."
        ),
    ] = None,
    socket: Annotated[
        bool, typer.Option("--socket", help="Socket Mode instead: no public address.")
    ] = False,
) -> None:
    """Print the Slack app manifest to paste into api.slack.com/apps → Create New App → From a
    manifest (JSON)."""
    from bot.slack_manifest import manifest, render

    if socket == (url is not None):
        typer.echo("Give either --url https://… (HTTP mode) or --socket.", err=True)
        raise typer.Exit(2)
    if url is not None and not url.startswith("https://"):
        typer.echo("--url must start with https://: Slack only posts to HTTPS.", err=True)
        raise typer.Exit(2)
    typer.echo(render(manifest(url)), nl=False)


@db_cli.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Apply the database migrations (safe to run any time)."""

    settings = _config(config)
    app = _build(settings)
    tr = app.engine.translator(settings.defaults.language)
    url = settings.redacted()["database"]["url"]
    typer.echo(tr._("Database is up to date: {url}", url=url))


def main() -> None:
    setup_logging()
    cli()
