"""Settings: one table, environment below explicit values, clear errors for bad values."""

from __future__ import annotations

import pytest

from rightsledger import settings
from rightsledger.errors import ConfigError


def test_settings_table_documents_every_setting() -> None:
    names = [s.name for s in settings.SETTINGS]
    assert len(names) == len(set(names))
    for s in settings.SETTINGS:
        assert s.env.startswith("RIGHTSLEDGER_") and s.help.endswith(".")


def test_settings_precedence_default_env_explicit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RIGHTSLEDGER_MAX_BYTES", raising=False)
    assert settings.get("max_bytes") == 20 * 2**20
    monkeypatch.setenv("RIGHTSLEDGER_MAX_BYTES", "1_000")
    assert settings.get("max_bytes") == 1000
    assert settings.get("max_bytes", 5) == 5
    monkeypatch.setenv("RIGHTSLEDGER_ALLOW_PRIVATE_URLS", "yes")
    assert settings.get("allow_private_urls") is True


@pytest.mark.parametrize(("env", "value"), [("RIGHTSLEDGER_MAX_BYTES", "20MB"), ("RIGHTSLEDGER_ALLOW_PRIVATE_URLS", "maybe")])
def test_settings_bad_environment_value_is_a_config_error(monkeypatch: pytest.MonkeyPatch, env: str, value: str) -> None:
    monkeypatch.setenv(env, value)
    name = next(s.name for s in settings.SETTINGS if s.env == env)
    with pytest.raises(ConfigError) as info:
        settings.get(name)
    assert info.value.hint


def test_settings_current_user_prefers_the_configured_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGHTSLEDGER_USER", "field-team-3")
    assert settings.current_user() == "field-team-3"
    monkeypatch.delenv("RIGHTSLEDGER_USER")
    assert settings.current_user()


def test_settings_redact_url_hides_only_the_password() -> None:
    assert settings.redact_url("postgresql+psycopg://ana:s3cret@db:5432/ledger") == \
        "postgresql+psycopg://ana:***@db:5432/ledger"
    assert settings.redact_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
