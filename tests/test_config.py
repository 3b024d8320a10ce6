"""Configuration: the example is valid, mistakes are named with file and key, secrets come
from the environment and are never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from leerbot.cli import main
from leerbot.config import ConfigError, load_settings
from leerbot.paths import CONFIG_DIR

EXAMPLE = CONFIG_DIR / "leerbot.example.yaml"


def test_example_config_is_valid_and_documents_every_key() -> None:
    settings = load_settings(EXAMPLE, environ={})
    assert settings.default_locale == "nl"
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in (
        "community_name",
        "default_locale",
        "timezone",
        "database_url",
        "content_dir",
        "test_guild_id",
        "small_number_threshold",
        "audit_retention_days",
        "level",
        "file",
    ):
        assert f"{key}:" in text, f"{key} missing from the example"
        line = next(
            line
            for line in text.splitlines()
            if line.lstrip().startswith(f"{key}:") or line.lstrip().startswith(f"# {key}:")
        )
        index = text.splitlines().index(line)
        assert text.splitlines()[index - 1].lstrip().startswith("#"), f"{key} has no comment"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leerbot.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("default_locale: fr\n", "key 'default_locale'"),
        ("timezone: Mars/Olympus\n", "key 'timezone': unknown time zone"),
        ("privacy:\n  small_number_threshold: 1\n", "key 'privacy.small_number_threshold'"),
        ("discord:\n  test_guild: 5\n", "key 'discord.test_guild': unknown key"),
        ("database_url: mysql://x\n", "key 'database_url'"),
        ("discord:\n  token: abc\n", "never put the token in a file"),
        ("- just\n- a list\n", "must contain keys and values"),
        ("default_locale: [nl\n", "line 1"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_cli_exits_2_with_message_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "privacy:\n  small_number_threshold: many\n")
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "privacy.small_number_threshold" in err
    assert "Traceback" not in err


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_environment_supplies_secrets_and_check_config_masks_them(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEERBOT_DISCORD_TOKEN", "super-secret-token")
    monkeypatch.setenv("LEERBOT_DATABASE_URL", "postgresql+asyncpg://bot:hunter2@db/leerbot")
    monkeypatch.delenv("LEERBOT_CONFIG", raising=False)
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "super-secret-token" not in out and "hunter2" not in out
    assert "postgresql+asyncpg://bot:***@db/leerbot" in out
    assert '"token": "********"' in out


def test_a_malformed_question_bank_in_content_dir_stops_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = tmp_path / "content"
    (content / "questions").mkdir(parents=True)
    bank = content / "questions" / "eigen.yaml"
    bank.write_text(
        "id: eigen\nsource: x\nquestions:\n  - id: een\n    nl: Vraag?\n", encoding="utf-8"
    )
    config = _write(tmp_path, f"content_dir: {content}\n")
    assert main(["--config", str(config), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{bank}:4:" in err and "'en'" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        # an old editor saved it as Windows-1252: the é of "Café" is one byte
        (
            "safety:\n  help_lines:\n    nl: Bel het Café\n".encode("cp1252"),
            "(line 3, column 20): key 'safety.help_lines.nl': the file is not UTF-8 text",
        ),
        ("community_name: Café\n".encode("latin-1"), "key 'community_name'"),
        # Notepad's "Unicode"
        ("default_locale: nl\n".encode("utf-16"), "(line 1, column 1): the file is not UTF-8"),
    ],
)
def test_a_config_file_that_is_not_utf8_is_named_with_line_key_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, expected: str
) -> None:
    path = tmp_path / "leerbot.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value).startswith(str(path))
    assert expected in str(caught.value) and "save it as UTF-8" in str(caught.value)
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and "UnicodeDecodeError" not in err


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "leerbot.yaml"
    path.write_bytes("\ufeffcommunity_name: Café\n".encode())
    assert load_settings(path, environ={}).community_name == "Café"
