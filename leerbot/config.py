"""Configuration: one YAML file (documented in `config/leerbot.example.yaml`) plus secrets
from the environment. Validated at start so that a typo stops the program with the file,
the key and the reason, instead of surprising a member later."""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///leerbot.db"
ENV_CONFIG = "LEERBOT_CONFIG"
ENV_TOKEN = "LEERBOT_DISCORD_TOKEN"
ENV_DATABASE = "LEERBOT_DATABASE_URL"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiscordSettings(_Section):
    test_guild_id: int | None = Field(
        default=None, description="Sync slash commands to this server only (fast, for testing)."
    )
    nonce_trust_seconds: int = Field(
        default=120,
        ge=0,
        le=240,
        description=(
            "After a crash, a message that may have been sent is sent again with the same "
            "nonce within this many seconds (Discord then returns the first one); later, the "
            "bot first looks for it in the channel."
        ),
    )
    token: SecretStr | None = Field(default=None, exclude=True)


class PrivacySettings(_Section):
    small_number_threshold: int = Field(default=5, ge=2, le=50)
    audit_retention_days: int = Field(default=730, ge=30)
    round_recipients_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Who was asked in a finished round is forgotten after this many days.",
    )


class SessionSettings(_Section):
    reminder_minutes: tuple[int, ...] = Field(
        default=(1440, 60), description="Reminders before a session, in minutes."
    )
    default_capacity: int = Field(default=8, ge=2, le=50)
    default_duration_minutes: int = Field(default=120, ge=15, le=480)

    @field_validator("reminder_minutes")
    @classmethod
    def _sane_reminders(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(m < 5 or m > 14 * 1440 for m in value):
            raise ValueError("each reminder must be between 5 minutes and 14 days before")
        return tuple(sorted(set(value), reverse=True))


class ReflectionSettings(_Section):
    reminder_hours: int = Field(
        default=24, ge=1, le=240, description="The one gentle reminder, hours before closing."
    )
    window_days: int = Field(default=7, ge=1, le=60)
    auto_publish: bool = Field(
        default=False,
        description="Publish a summary by itself when no moderator decided within review_hours.",
    )
    review_hours: int = Field(
        default=48,
        ge=1,
        le=336,
        description="With auto_publish: how long the draft waits for a moderator first.",
    )


MAX_HELP_TEXT = 600


class HelpLineSettings(_Section):
    """Where to find help. By default the Dutch help lines (113, 112, the huisarts); a
    community abroad, or with its own vertrouwenspersoon, adds to them or replaces them."""

    mode: Literal["extend", "replace"] = Field(
        default="extend", description="extend: shown after the standard help lines."
    )
    nl: str | None = Field(default=None, description="The community's own text, in Dutch.")
    en: str | None = Field(default=None, description="The same text in English.")

    @field_validator("nl", "en")
    @classmethod
    def _sane_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if not text:
            raise ValueError("must not be empty (leave the key out to use the standard text)")
        if len(text) > MAX_HELP_TEXT:
            raise ValueError(f"is {len(text)} characters long; at most {MAX_HELP_TEXT}")
        return text

    @model_validator(mode="after")
    def _replacement_is_complete(self) -> HelpLineSettings:
        if self.mode == "replace" and not (self.nl and self.en):
            raise ValueError(
                "mode 'replace' needs both 'nl' and 'en': members must always see where to "
                "find help"
            )
        return self


class SafetySettings(_Section):
    help_lines: HelpLineSettings = HelpLineSettings()


class PracticeSettings(_Section):
    digest: Literal["weekly", "monthly", "off"] = "weekly"
    digest_weekday: int = Field(default=0, ge=0, le=6, description="0 = Monday")
    digest_hour: int = Field(default=9, ge=0, le=23)
    saved_search_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="A search behind 'next page' buttons is forgotten after this many days.",
    )


class ExportSettings(_Section):
    csv_delimiter: Literal[";", ",", "\t"] = Field(
        default=";",
        description="Column separator of CSV exports: ';' for Dutch Excel, ',' or 'tab'.",
    )

    @field_validator("csv_delimiter", mode="before")
    @classmethod
    def _named_delimiter(cls, value: object) -> object:
        names = {"tab": "\t", "semicolon": ";", "puntkomma": ";", "comma": ",", "komma": ","}
        if isinstance(value, str) and value.strip().lower() in names:
            return names[value.strip().lower()]
        if value in (";", ",", "\t"):
            return value
        raise ValueError(f"{value!r} is not a column separator; use ';', ',' or 'tab'")


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    file: Path | None = None


class Settings(_Section):
    """The whole configuration; every key is documented in config/leerbot.example.yaml."""

    community_name: str = Field(default="Community of Learners", min_length=1, max_length=100)
    default_locale: Literal["nl", "en"] = "nl"
    timezone: str = "Europe/Amsterdam"
    database_url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    content_dir: Path | None = None
    discord: DiscordSettings = DiscordSettings()
    privacy: PrivacySettings = PrivacySettings()
    sessions: SessionSettings = SessionSettings()
    reflections: ReflectionSettings = ReflectionSettings()
    practices: PracticeSettings = PracticeSettings()
    safety: SafetySettings = SafetySettings()
    exports: ExportSettings = ExportSettings()
    logging: LoggingSettings = LoggingSettings()
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Amsterdam)") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "use sqlite+aiosqlite:///path/leerbot.db or postgresql+asyncpg://user@host/db"
            )
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


def _format_location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top)"


def _read_utf8(source: Path) -> str:
    """The file as text. A file saved in another encoding (Windows-1252 from an old editor,
    UTF-16 from Notepad) is named with the line, the key and what to do, like any other
    mistake; a UTF-8 byte order mark is fine."""
    raw = source.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8")) + 1
        key = _key_at(raw.decode("utf-8", errors="replace"), line - 1)
        where = f" key '{key}':" if key else ""
        raise ConfigError(
            f"{source} (line {line}, column {column}):{where} the file is not UTF-8 text "
            f"(byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None


def _key_at(text: str, line: int) -> str | None:
    """The dotted key whose entry holds `line` (0-based), if the YAML can be read at all:
    at each level, the last key that starts on or before that line."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    path: list[str] = []
    while isinstance(node, yaml.MappingNode):
        before = [(k, v) for k, v in node.value if k.start_mark.line <= line]
        if not before:
            break
        key, node = before[-1]
        path.append(str(key.value))
    return ".".join(path) or None


def load_settings(
    path: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read the file (if any), overlay the secrets from the environment, validate."""
    env = dict(os.environ if environ is None else environ)
    chosen = path or env.get(ENV_CONFIG) or None
    data: dict[str, Any] = {}
    source: Path | None = None
    if chosen:
        source = Path(chosen)
        if not source.is_file():
            raise ConfigError(f"{source}: configuration file not found")
        text = _read_utf8(source)
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise ConfigError(f"{source}{where}: not valid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{source}: the file must contain keys and values (a mapping)")
        data = loaded
    if env.get(ENV_DATABASE):
        data["database_url"] = env[ENV_DATABASE]
    token = env.get(ENV_TOKEN)
    if token:
        discord_section = data.get("discord") or {}
        if not isinstance(discord_section, dict):
            raise ConfigError(f"{source}: key 'discord': must be a mapping")
        data["discord"] = {**discord_section, "token": token}
    elif isinstance(data.get("discord"), dict) and "token" in data["discord"]:
        raise ConfigError(
            f"{source}: key 'discord.token': never put the token in a file; "
            f"set the environment variable {ENV_TOKEN}"
        )
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = _format_location(error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (see config/leerbot.example.yaml for the keys)"
            problems.append(f"{source or 'configuration'}: key '{key}': {message}")
        raise ConfigError("\n".join(problems)) from None
    return settings.model_copy(update={"source": source})


def masked(settings: Settings) -> dict[str, Any]:
    """The resolved configuration with secrets masked, for `leerbot check-config`."""
    data = settings.model_dump(mode="json", exclude={"source"})
    url = settings.database_url.get_secret_value()
    data["database_url"] = _mask_url(url)
    token = settings.discord.token
    data["discord"]["token"] = "********" if token else "(not set)"
    return data


def _mask_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "********"


def check_content(settings: Settings) -> None:
    """Load the community content (question banks, themes, intervisie methods) once at
    start, so a malformed file stops the program with its name and line."""
    from leerbot.core.methods import MethodFileError, load_methods
    from leerbot.core.questions import QuestionBankError, load_banks
    from leerbot.core.themes import ThemeFileError, load_themes

    try:
        load_banks(settings.content_dir)
        load_themes(settings.content_dir)
        load_methods(settings.content_dir)
    except (QuestionBankError, ThemeFileError, MethodFileError) as exc:
        raise ConfigError(str(exc)) from None
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"content could not be read: {exc}") from None
