"""Before the migration: the database URL the user wrote, and a database that can't be opened,
said in one line that names the fix."""

from __future__ import annotations

import re

import pytest

from models.db import DatabaseUnavailable, database_problem, prepare_database, with_async_driver


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("postgres://shop@db.internal:5432/nudge", "postgresql+asyncpg://shop@db.internal:5432/nudge"),
        ("postgresql://shop@db.internal/nudge", "postgresql+asyncpg://shop@db.internal/nudge"),
        ("sqlite:///data/nudge.db", "sqlite+aiosqlite:///data/nudge.db"),
        ("postgresql+asyncpg://shop@db/nudge", "postgresql+asyncpg://shop@db/nudge"),
        ("sqlite+aiosqlite:////var/lib/nudge.db", "sqlite+aiosqlite:////var/lib/nudge.db"),
    ],
)
def test_urls_without_a_driver_get_the_async_one(written, used):
    assert with_async_driver(written) == used


def test_a_missing_directory_is_created(tmp_path):
    prepare_database(f"sqlite+aiosqlite:///{tmp_path}/a/b/nudge.db")
    assert (tmp_path / "a" / "b" / "nudge.db").is_file()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://shop@db/nudge", "DATABASE_URL names mysql://, which Nudge does not support"),
        ("postgresql+psycopg2://shop@db/nudge", "DATABASE_URL names postgresql+psycopg2://"),
        ("not a url", "DATABASE_URL is not a database URL"),
    ],
)
def test_unsupported_or_malformed_urls_are_refused_before_anything_opens(url, said):
    with pytest.raises(DatabaseUnavailable, match=re.escape(said)):
        prepare_database(url)


def test_a_file_in_place_of_the_directory_is_refused(tmp_path):
    (tmp_path / "data").write_text("not a directory")
    with pytest.raises(DatabaseUnavailable) as refused:
        prepare_database(f"sqlite+aiosqlite:///{tmp_path}/data/nudge.db")
    assert str(refused.value).startswith(f"cannot open database {tmp_path}/data/nudge.db: cannot create directory")


def test_a_refused_connection_names_the_server_without_its_password():
    url = "postgresql+asyncpg://shop:s3cret@127.0.0.1:5999/nudge"
    line = database_problem(url, ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5999)"))
    assert line.startswith("cannot connect to the database at postgresql+asyncpg://shop:***@127.0.0.1:5999/nudge")
    assert "s3cret" not in line and "is the server running?" in line
