"""Typed settings and ``TRYGHED_*_FILE`` secrets (issue 17): a password stays text, every setting has a
type, a secret can come from a file, and a wrong value is a clear error naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from survey import create_app
from survey.config import ConfigError, load_config


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("TRYGHED_SECRET_KEY", "k")
    return monkeypatch


def test_a_numeric_password_stays_text(env: pytest.MonkeyPatch) -> None:
    env.setenv("TRYGHED_SMTP_PASSWORD", "123456")
    env.setenv("TRYGHED_SMTP_USERNAME", "true")
    env.setenv("TRYGHED_MAIL_FROM", "null")
    config = load_config()
    assert config["SMTP_PASSWORD"] == "123456"
    assert config["SMTP_USERNAME"] == "true"
    assert config["MAIL_FROM"] == "null"


def test_each_setting_has_its_type(env: pytest.MonkeyPatch) -> None:
    env.setenv("TRYGHED_SMTP_PORT", "587")
    env.setenv("TRYGHED_SMTP_STARTTLS", "yes")
    env.setenv("TRYGHED_REMINDER_SKIP_HOLIDAYS", "False")
    env.setenv("TRYGHED_MAIL_BACKOFF", "[5, 10]")
    env.setenv("TRYGHED_SMTP_USERNAME", "")  # ${VAR:-} in a compose file: unset
    env.setenv("TRYGHED_WTF_CSRF_TIME_LIMIT", "3600")
    env.setenv("TRYGHED_SMTP_TIMEOUT", "2.5")
    config = load_config()
    assert config["SMTP_PORT"] == 587
    assert config["SMTP_STARTTLS"] is True
    assert config["REMINDER_SKIP_HOLIDAYS"] is False
    assert config["MAIL_BACKOFF"] == [5, 10]
    assert config["SMTP_USERNAME"] is None
    assert config["WTF_CSRF_TIME_LIMIT"] == 3600
    assert config["SMTP_TIMEOUT"] == 2.5


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SMTP_PORT", "twenty-five", "TRYGHED_SMTP_PORT: expected a whole number"),
        ("SMTP_STARTTLS", "maybe", "TRYGHED_SMTP_STARTTLS: expected true or false"),
        ("MAIL_BACKOFF", "[5,", "TRYGHED_MAIL_BACKOFF: expected JSON"),
    ],
)
def test_a_wrong_value_names_the_variable(env: pytest.MonkeyPatch, name: str, value: str, says: str) -> None:
    env.setenv(f"TRYGHED_{name}", value)
    with pytest.raises(ConfigError, match=says):
        load_config()


def test_any_setting_can_come_from_a_file(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "smtp_password"
    secret.write_text("0123 hemmelig\n")  # trailing newline as `echo` writes it: stripped
    port = tmp_path / "port"
    port.write_text("2525\n")
    env.setenv("TRYGHED_SMTP_PASSWORD_FILE", str(secret))
    env.setenv("TRYGHED_SMTP_PORT_FILE", str(port))
    # a setting no module declares yet (another feature's secret) works the same way, through app.config
    other = tmp_path / "client_secret"
    other.write_text("s3cr3t")
    env.setenv("TRYGHED_OIDC_CLIENT_SECRET_FILE", str(other))
    env.delenv("TRYGHED_SECRET_KEY")
    key = tmp_path / "secret_key"
    key.write_text("nøgle-fra-fil\r\n")
    env.setenv("TRYGHED_SECRET_KEY_FILE", str(key))
    config = load_config()
    assert config["SMTP_PASSWORD"] == "0123 hemmelig"
    assert config["SMTP_PORT"] == 2525
    assert config["OIDC_CLIENT_SECRET"] == "s3cr3t"
    assert config["SECRET_KEY"] == "nøgle-fra-fil"
    assert "SMTP_PASSWORD_FILE" not in config
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}"})
    assert app.config["OIDC_CLIENT_SECRET"] == "s3cr3t"
    assert app.secret_key == "nøgle-fra-fil"


def test_both_forms_or_a_missing_file_is_a_clear_error(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("x")
    env.setenv("TRYGHED_SMTP_PASSWORD", "y")
    env.setenv("TRYGHED_SMTP_PASSWORD_FILE", str(secret))
    with pytest.raises(ConfigError, match="TRYGHED_SMTP_PASSWORD and TRYGHED_SMTP_PASSWORD_FILE are both set"):
        load_config()
    env.delenv("TRYGHED_SMTP_PASSWORD")
    env.setenv("TRYGHED_SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="TRYGHED_SMTP_PASSWORD_FILE: cannot read .*missing"):
        load_config()
