"""The config contract of SPEC §4: file, environment overrides, errors that name the key, and
secrets that never show."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.config import Config, ConfigError, SlackConfig, TelegramConfig, load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
TELEGRAM_TOKEN = "123456:telegram-token-text"
SLACK_TOKEN = "xoxb-slack-token-text"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.toml here
    config = load_config(None, environ={})
    assert config == Config()
    assert config.database.url == "sqlite:///tiendo.db"
    assert config.files.dir == Path("tiendo-files")
    assert config.defaults.language == "vi"
    assert config.defaults.timezone == "Asia/Ho_Chi_Minh"
    assert config.admins.superadmins == []
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert not config.telegram.enabled
    assert not config.slack.enabled


def test_default_path_is_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, '[defaults]\nlanguage = "en"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config(None, environ={}).defaults.language == "en"


def test_file_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[database]
url = "postgresql+psycopg://tiendo@db.example.org/tiendo"
[files]
dir = "out"
[admins]
superadmins = ["telegram:123456", "slack:T0123:U0456", "shell:admin"]
[defaults]
language = "en"
timezone = "Asia/Bangkok"
[server]
port = 9000
[telegram]
token = "{TELEGRAM_TOKEN}"
mode = "webhook"
webhook_url = "https://example.org/telegram"
webhook_secret = "s3cret"
[slack]
bot_token = "{SLACK_TOKEN}"
mode = "socket"
app_token = "xapp-1"
""",
    )
    config = load_config(path, environ={})
    assert config.database.url.startswith("postgresql+psycopg://")
    assert config.files.dir == Path("out")
    assert config.admins.superadmins == ["telegram:123456", "slack:T0123:U0456", "shell:admin"]
    assert config.defaults.language == "en"
    assert config.defaults.timezone == "Asia/Bangkok"
    assert config.server.port == 9000
    assert config.telegram.enabled
    assert config.telegram.token is not None
    assert config.telegram.token.get_secret_value() == TELEGRAM_TOKEN
    assert config.telegram.problems() == []
    assert config.slack.enabled
    assert config.slack.mode == "socket"
    assert config.slack.problems() == []


def test_environment_beats_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[database]
url = "sqlite:///from-file.db"
[admins]
superadmins = ["telegram:1"]
[telegram]
api_base_url = "https://file.example"
""",
    )
    environ = {
        "TIENDO_DATABASE_URL": "sqlite:///from-env.db",
        "TIENDO_TELEGRAM_API_BASE_URL": "http://localhost:8081",
        "TIENDO_ADMINS_SUPERADMINS": "telegram:2, slack:T1:U2,",
        "TIENDO_SERVER_PORT": "9090",
        "TIENDO_SLACK_BOT_TOKEN": SLACK_TOKEN,
        "TIENDO_TEST_POSTGRES_URL": "not a config key",  # other TIENDO_ variables are left alone
    }
    config = load_config(path, environ=environ)
    assert config.database.url == "sqlite:///from-env.db"
    assert config.telegram.api_base_url == "http://localhost:8081"
    assert config.admins.superadmins == ["telegram:2", "slack:T1:U2"]
    assert config.server.port == 9090
    assert config.slack.bot_token is not None
    assert config.slack.bot_token.get_secret_value() == SLACK_TOKEN


def test_blank_token_means_disabled(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "x"\n')
    config = load_config(path, environ={"TIENDO_TELEGRAM_TOKEN": ""})
    assert config.telegram.token is None
    assert not config.telegram.enabled


def test_explicit_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"^config file not found: .*nope\.toml$"):
        load_config(missing, environ={})


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[database\n")
    with pytest.raises(ConfigError, match=r"config\.toml is not valid TOML"):
        load_config(path, environ={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[telegram]\ntokn = "x"\n', r"^telegram\.tokn: unknown key \(keys: token, "),
        ('[telgram]\ntoken = "x"\n', r"^telgram: unknown section \(sections: database, "),
    ],
)
def test_unknown_key_in_file(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_unknown_key_in_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^TIENDO_TELEGRAM_TOKN: \[telegram\] has no key 'tokn'"):
        load_config(None, environ={"TIENDO_TELEGRAM_TOKN": "x"})


def test_bad_timezone(tmp_path: Path) -> None:
    path = write(tmp_path, '[defaults]\ntimezone = "Asia/Saigonn"\n')
    with pytest.raises(ConfigError, match=r"^defaults\.timezone: unknown time zone 'Asia/Saigonn'"):
        load_config(path, environ={})


@pytest.mark.parametrize("identity", ["123456", "facebook:1", "telegram:", "slack::U1", "a:b:c:d"])
def test_bad_identity(tmp_path: Path, identity: str) -> None:
    path = write(tmp_path, f'[admins]\nsuperadmins = ["shell:admin", "{identity}"]\n')
    with pytest.raises(ConfigError, match=r"^admins\.superadmins\[1\]: .* is not an identity"):
        load_config(path, environ={})


def test_bad_value_names_key_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\nmode = "webhok"\n')
    with pytest.raises(ConfigError, match=r"^telegram\.mode: Input should be 'polling' or"):
        load_config(path, environ={})
    with pytest.raises(ConfigError, match=r"^server\.port \(from TIENDO_SERVER_PORT\): "):
        load_config(path, environ={"TIENDO_SERVER_PORT": "http", "TIENDO_TELEGRAM_MODE": "polling"})


def test_telegram_rate_limit_is_bounded(tmp_path: Path) -> None:
    assert load_config(None, environ={}).telegram.max_messages_per_second == 30
    path = write(tmp_path, "[telegram]\nmax_messages_per_second = 1000\n")
    assert load_config(path, environ={}).telegram.max_messages_per_second == 1000
    for bad in ("0", "1001"):
        with pytest.raises(ConfigError, match=r"^telegram\.max_messages_per_second \(from TIEN"):
            load_config(path, environ={"TIENDO_TELEGRAM_MAX_MESSAGES_PER_SECOND": bad})


def test_secrets_never_shown(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[database]
url = "postgresql+psycopg://tiendo:dbpassword@db.example.org/tiendo"
[telegram]
token = "{TELEGRAM_TOKEN}"
webhook_secret = "webhook-secret-text"
""",
    )
    config = load_config(path, environ={"TIENDO_SLACK_BOT_TOKEN": SLACK_TOKEN})
    redacted = config.redacted()
    for shown in (repr(config), str(config), str(redacted)):
        for secret in (TELEGRAM_TOKEN, SLACK_TOKEN, "webhook-secret-text"):
            assert secret not in shown
    assert "dbpassword" not in str(redacted)
    assert redacted["telegram"]["token"] == "***"
    assert redacted["slack"]["bot_token"] == "***"
    assert redacted["slack"]["signing_secret"] is None
    assert redacted["database"]["url"] == "postgresql+psycopg://tiendo:***@db.example.org/tiendo"


def test_secret_not_in_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[telegram]\ntoken = 123456789\n")  # a number, not a string
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert "telegram.token" in str(raised.value)
    assert "123456789" not in str(raised.value)


def test_example_file_loads_as_shell_only() -> None:
    config = load_config(EXAMPLE, environ={})
    assert config == Config()
    assert not config.telegram.enabled
    assert not config.slack.enabled


def test_example_file_documents_every_key() -> None:
    example = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert {section: list(keys) for section, keys in example.items()} == {
        section: list(type(value).model_fields) for section, value in Config()
    }


def test_telegram_problems() -> None:
    assert TelegramConfig(token="t").problems() == []
    assert TelegramConfig(token="t", mode="webhook").problems() == [
        'telegram.webhook_url is required when telegram.mode = "webhook"',
        'telegram.webhook_secret is required when telegram.mode = "webhook"',
    ]
    complete = TelegramConfig(mode="webhook", webhook_url="https://x", webhook_secret="s")
    assert complete.problems() == []


def test_slack_problems() -> None:
    assert SlackConfig(bot_token="b").problems() == [
        'slack.signing_secret is required when slack.mode = "http"'
    ]
    assert SlackConfig(bot_token="b", signing_secret="s").problems() == []
    assert SlackConfig(bot_token="b", mode="socket").problems() == [
        'slack.app_token is required when slack.mode = "socket"'
    ]
    assert SlackConfig(bot_token="b", mode="socket", app_token="xapp-1").problems() == []
