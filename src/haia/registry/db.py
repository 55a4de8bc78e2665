"""The registry database: where it lives, how to open it, and its Alembic migrations.

SQLite in haia's data folder by default (``$HAIA_HOME/registry.db``); any SQLAlchemy URL in
``HAIA_DATABASE_URL`` (``postgresql+psycopg://user@host/db`` for teams) overrides it. Opening a
database brings its schema up to date with the bundled migrations.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from haia.errors import HaiaError

MIGRATIONS = Path(__file__).with_name("migrations")


def default_url() -> str:
    """``HAIA_DATABASE_URL``, else SQLite in haia's data folder."""
    from haia.runner.store import haia_home

    url = os.environ.get("HAIA_DATABASE_URL")
    if url:
        return url
    home = haia_home()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'registry.db'}"


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url`` (default: :func:`default_url`), with SQLite foreign keys on."""
    url = url or default_url()
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:  # bad URL or missing driver
        raise HaiaError(f"cannot open the registry database {_safe(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    return engine


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def revision(engine: Engine) -> str | None:
    """The schema revision of the database (None when it has none yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Apply every bundled migration not yet applied (``alembic upgrade head``); return the
    revisions before and after."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        before = revision(engine)
        sqlite = engine.dialect.name == "sqlite"
        with engine.connect() as connection:
            if sqlite:  # batch migrations recreate tables others refer to
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
        return before, revision(engine)
    except Exception as exc:
        if isinstance(exc, HaiaError):
            raise
        raise HaiaError(f"cannot migrate the registry database {_safe(str(engine.url))}: "
                        f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}") from None


def open_session_factory(url: str | None = None
                         ) -> tuple[sessionmaker[Session], tuple[str | None, str | None]]:
    """A session factory on an up-to-date registry database, and the schema revisions
    before and after opening it."""
    engine = make_engine(url)
    revisions = upgrade(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "before_flush", _refuse_unstorable)
    return factory, revisions


INT32 = 2**31 - 1


def _refuse_unstorable(session: Session, _context: object, _instances: object) -> None:
    """Refuse what PostgreSQL cannot store, alike on every database (SQLite would take it):
    a NUL character in any text, text longer than its column, an integer beyond 32 bits."""
    from sqlalchemy import Integer, String

    for record in (*session.new, *session.dirty):
        for column in record.__table__.columns:
            value = getattr(record, column.key, None)
            if _contains_nul(value):
                raise HaiaError(f"{column.key} contains a NUL character, which the registry "
                                "does not store")
            length = getattr(column.type, "length", None)
            if isinstance(column.type, String) and length and isinstance(value, str) \
                    and len(value) > length:
                raise HaiaError(f"{column.key} has {len(value)} characters; at most {length} "
                                "are kept")
            if isinstance(column.type, Integer) and isinstance(value, int) \
                    and not -INT32 - 1 <= value <= INT32:
                raise HaiaError(f"{column.key} {value} is out of range (at most {INT32:,})")


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(v) for v in value)
    return False
