"""Settings read from the environment: notify keys and the Direct Line route's trust rules."""

from __future__ import annotations

import pytest

from app import settings_from_env


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env from the working copy
    for name in ("NOTIFY_API_KEYS", "PROACTIVE_TRUSTED_SENDERS", "MicrosoftAppId", "HOST", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/n.db")


def test_trusted_senders_are_channel_and_id_and_a_bare_id_means_direct_line(monkeypatch):
    monkeypatch.setenv("PROACTIVE_TRUSTED_SENDERS", "order-service, emulator:ops , msteams:29:abc")
    assert settings_from_env().proactive_trusted_senders == (
        "directline:order-service", "emulator:ops", "msteams:29:abc",
    )


def test_trusted_senders_without_channel_auth_are_refused_off_loopback(monkeypatch):
    monkeypatch.setenv("PROACTIVE_TRUSTED_SENDERS", "order-service")
    monkeypatch.setenv("HOST", "0.0.0.0")
    with pytest.raises(SystemExit, match="MicrosoftAppId"):
        settings_from_env()
    monkeypatch.setenv("MicrosoftAppId", "00000000-0000-0000-0000-000000000001")
    assert settings_from_env().proactive_trusted_senders == ("directline:order-service",)


def test_notify_keys_are_a_list_of_long_keys(monkeypatch):
    monkeypatch.setenv("NOTIFY_API_KEYS", "a" * 16 + ", " + "b" * 20)
    assert settings_from_env().notify_api_keys == ("a" * 16, "b" * 20)
    monkeypatch.setenv("NOTIFY_API_KEYS", "short")
    with pytest.raises(SystemExit, match="16 characters"):
        settings_from_env()


def test_the_event_loop_is_uvloop_unless_asked_otherwise():
    import asyncio

    import uvloop

    from app import use_event_loop

    try:
        use_event_loop("uvloop")
        assert isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy)
        with pytest.raises(SystemExit, match="EVENT_LOOP must be uvloop or asyncio"):
            use_event_loop("trio")
    finally:
        asyncio.set_event_loop_policy(None)
    use_event_loop("asyncio")
    assert not isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy)
