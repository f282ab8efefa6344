"""The configuration (SPEC §4): a TOML file, then `TIENDO_<SECTION>_<KEY>` environment overrides.

Everything has a default, so no file at all is a working shell-only setup. Mistakes fail loudly
with the key named: an unknown key is a typo that would otherwise be ignored in silence. Tokens
are `SecretStr`, so neither `repr` nor a log line can show them."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, cast, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails

from handlers.values import PLATFORMS
from storage.urls import is_database_url, without_password

DEFAULT_PATH = Path("config.toml")
ENV_PREFIX = "TIENDO_"


class ConfigError(Exception):
    """The configuration cannot be used; the message names the file or key and says why."""


def _blank_to_none(value: object) -> object:
    return None if value == "" else value


def _identity(value: str) -> str:
    parts = value.split(":")
    # Slack ids are only unique within a workspace, so a Slack identity carries its team id.
    expected = 3 if parts[0] == "slack" else 2
    if parts[0] not in PLATFORMS or len(parts) != expected or not all(parts):
        raise ValueError(
            f"{value!r} is not an identity such as 'zalo:7a1c2e…', 'telegram:123456', "
            "'slack:T0123:U0456' or 'shell:admin'"
        )
    return value


# Blank means unset, so `token = ""` in the file or an empty `TIENDO_TELEGRAM_TOKEN=` leaves
# the adapter disabled instead of starting it with an empty token.
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_to_none)]
OptionalStr = Annotated[str | None, BeforeValidator(_blank_to_none)]
Identity = Annotated[str, AfterValidator(_identity)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(_Section):
    url: str = "sqlite:///tiendo.db"
    # SQLite: seconds a write waits for another connection's lock (a backup, a `sqlite3` shell)
    # before it fails and the delivery is tried again later.
    busy_timeout: float = Field(default=10.0, gt=0)

    @field_validator("url")
    @classmethod
    def _parseable(cls, url: str) -> str:
        # Checked here so a typo is reported as `database.url`, not as a SQLAlchemy traceback.
        # The URL is not echoed: it may carry a password.
        if not is_database_url(url):
            raise ValueError(
                "not a database URL (e.g. 'sqlite:///tiendo.db' or "
                "'postgresql+psycopg://user@host/db')"
            ) from None
        return url


class FilesConfig(_Section):
    dir: Path = Path("tiendo-files")


class AdminsConfig(_Section):
    superadmins: list[Identity] = Field(default_factory=list)


class DefaultsConfig(_Section):
    language: Literal["vi", "en"] = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {name!r} (use an IANA name such as 'Asia/Ho_Chi_Minh')"
            ) from None
        return name


class ServerConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port
    # This process's name in claims (default: the host name). A process started again under
    # the same name takes back at once what its killed predecessor held.
    instance: OptionalStr = None
    # How platforms reach this server from the Internet (HTTPS, behind the reverse proxy): Zalo
    # fetches chart images and export links from <public_url>/media/<token>.
    public_url: OptionalStr = None

    @field_validator("public_url")
    @classmethod
    def _https(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith("https://"):
            raise ValueError("must start with https:// (Zalo fetches images only over HTTPS)")
        return url.rstrip("/") if url else url


class _BotSection(_Section):
    """A platform whose bot is one token `<bot id>:<secret>` (Zalo, Telegram)."""

    token: OptionalSecret = None

    @property
    def enabled(self) -> bool:
        return self.token is not None

    @property
    def bot_id(self) -> str:
        """The part of the token before ':' (getMe's id): names the inbox."""
        assert self.token is not None
        return self.token.get_secret_value().split(":", 1)[0]


class ZaloConfig(_BotSection):
    # token: from Zalo Bot Creator, <bot_id>:<secret>
    api_base_url: str = "https://bot-api.zaloplatforms.com"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: OptionalStr = None
    webhook_secret: OptionalSecret = None

    def problems(self) -> list[str]:
        """What the chosen mode still lacks or gets wrong; empty when the adapter can start."""
        found = []
        if self.token is not None and ":" not in self.token.get_secret_value():
            found.append("zalo.token is <bot_id>:<secret>, as Zalo Bot Creator shows it")
        if self.mode != "webhook":
            return found
        found += [
            f'zalo.{key} is required when zalo.mode = "webhook"'
            for key in ("webhook_url", "webhook_secret")
            if getattr(self, key) is None
        ]
        if self.webhook_url is not None and not self.webhook_url.startswith("https://"):
            found.append("zalo.webhook_url must start with https://")
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else None
        if secret is not None and not (
            8 <= len(secret) <= 256 and all("!" <= c <= "~" for c in secret)
        ):
            found.append("zalo.webhook_secret must be 8-256 printable ASCII characters")
        return found


class TelegramConfig(_BotSection):
    # The bot's @username (without @), for t.me invite links; the shell shows them too.
    username: OptionalStr = None
    api_base_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: OptionalStr = None
    webhook_secret: OptionalSecret = None
    # Telegram allows a bot 30 messages/s; a self-hosted Bot API server or a raised limit more.
    max_messages_per_second: int = Field(default=30, ge=1, le=1000)

    @property
    def deep_link_base(self) -> str | None:
        username = (self.username or "").lstrip("@")
        return f"https://t.me/{username}?start=" if self.enabled and username else None

    def problems(self) -> list[str]:
        """What the chosen mode still lacks; empty when the adapter can start. Not a validator,
        so a half-configured platform does not stop `tiendo shell` from loading the file."""
        if self.mode != "webhook":
            return []
        return [
            f'telegram.{key} is required when telegram.mode = "webhook"'
            for key in ("webhook_url", "webhook_secret")
            if getattr(self, key) is None
        ]


class SlackConfig(_Section):
    bot_token: OptionalSecret = None
    signing_secret: OptionalSecret = None
    app_token: OptionalSecret = None
    mode: Literal["http", "socket"] = "http"
    api_base_url: str = "https://slack.com/api/"

    @property
    def enabled(self) -> bool:
        return self.bot_token is not None

    def problems(self) -> list[str]:
        """What the chosen mode still lacks; empty when the adapter can start."""
        needed = "signing_secret" if self.mode == "http" else "app_token"
        if getattr(self, needed) is None:
            return [f'slack.{needed} is required when slack.mode = "{self.mode}"']
        return []


class Config(_Section):
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    files: FilesConfig = Field(default_factory=FilesConfig)
    admins: AdminsConfig = Field(default_factory=AdminsConfig)
    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    zalo: ZaloConfig = Field(default_factory=ZaloConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)

    def redacted(self) -> dict[str, dict[str, Any]]:
        """The effective configuration for printing: secrets set are "***", unset ones None."""
        shown = self.model_dump(mode="json")
        for section_name, section in self:
            for key, value in section:
                if isinstance(value, SecretStr):
                    shown[section_name][key] = "***"
        shown["database"]["url"] = without_password(self.database.url)
        return shown


_SECTIONS: dict[str, type[BaseModel]] = {
    name: cast(type[BaseModel], field.annotation) for name, field in Config.model_fields.items()
}


def _keys(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read `path` (None: `./config.toml` if it exists, else the built-in defaults), apply the
    environment overrides from `environ` (default `os.environ`) and validate."""
    if path is None and DEFAULT_PATH.exists():
        path = DEFAULT_PATH
    data = {} if path is None else _read_toml(path)
    sources = _apply_environment(data, os.environ if environ is None else environ)
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        # `from None`: pydantic's own text would print the offending input, tokens included.
        raise ConfigError("; ".join(_describe(e, sources) for e in error.errors())) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None


def _apply_environment(
    data: dict[str, Any], environ: Mapping[str, str]
) -> dict[tuple[str, str], str]:
    """Write every `TIENDO_<SECTION>_<KEY>` into `data` (over the file's value) and return which
    variable set which (section, key), so an error can name the variable."""
    sources: dict[tuple[str, str], str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        # Section names have no underscore, so the first one ends the section: API_BASE_URL
        # stays one key.
        section, _, key = name.removeprefix(ENV_PREFIX).lower().partition("_")
        model = _SECTIONS.get(section)
        if model is None:
            continue  # not a config variable (e.g. the test suite's TIENDO_TEST_POSTGRES_URL)
        field = model.model_fields.get(key)
        if field is None:
            raise ConfigError(f"{name}: [{section}] has no key {key!r} (keys: {_keys(model)})")
        table = data.setdefault(section, {})
        if isinstance(table, dict):  # otherwise validation reports the section's own error
            if get_origin(field.annotation) is list:
                table[key] = [item.strip() for item in value.split(",") if item.strip()]
            else:
                table[key] = value
        sources[(section, key)] = name
    return sources


def _describe(error: ErrorDetails, sources: Mapping[tuple[str, str], str]) -> str:
    loc = error["loc"]
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)[1:]
    if error["type"] == "extra_forbidden":
        if len(loc) == 1:
            return f"{where}: unknown section (sections: {_keys(Config)})"
        return f"{where}: unknown key (keys: {_keys(_SECTIONS[str(loc[0])])})"
    source = sources.get((str(loc[0]), str(loc[1]))) if len(loc) >= 2 else None
    if source:
        where += f" (from {source})"
    return f"{where}: {error['msg'].removeprefix('Value error, ')}"
