"""Database URLs: parsed once, shown only without their credentials.

``sqlite:///relative/or//absolute/path.db``, ``postgresql://user[:password]@host[:port]/db`` and
``mysql://user[:password]@host[:port]/db`` (MariaDB and MySQL; ``mariadb://`` is accepted too). A password may be
written in the URL, but the environment is the better place: libpq reads ``PGPASSWORD`` and ``~/.pgpass`` for
PostgreSQL, and a MySQL URL without a password takes ``MYSQL_PWD``, as the ``mysql`` client does. Whatever is
printed (identity, metadata, lineage, errors) goes through :meth:`DatabaseURL.identity` or :meth:`scrub`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from operators.errors import DataflowError

DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "postgres": "postgres", "mysql": "mysql", "mariadb": "mysql"}
"""URL scheme -> sqlglot dialect."""

DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306}


class DatabaseURLError(DataflowError):
    """A database URL that cannot be used."""


@dataclass(frozen=True)
class DatabaseURL:
    dialect: str
    path: str = ""
    """SQLite: the database file."""
    host: str = ""
    port: int = 0
    database: str = ""
    user: str = ""
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> DatabaseURL:
        parts = urlsplit(url)
        scheme = parts.scheme.split("+", 1)[0].lower()
        if scheme not in DIALECTS:
            raise DatabaseURLError(
                f"database URL {mask(url)!r}: unknown scheme {parts.scheme!r}",
                hint="use sqlite:///path.db, postgresql://user@host:port/db or mysql://user@host:port/db",
            )
        dialect = DIALECTS[scheme]
        if dialect == "sqlite":
            path = unquote(url.split("://", 1)[1])
            path = path[1:] if path.startswith("/") else path  # sqlite:///rel.db -> rel.db; sqlite:////abs -> /abs
            if not path or path == ":memory:":
                raise DatabaseURLError(f"database URL {url!r} names no file", hint="use sqlite:///path/to/file.db")
            return cls(dialect, path=str(Path(path)))
        database = parts.path.lstrip("/")
        if not parts.hostname or not database:
            raise DatabaseURLError(
                f"database URL {mask(url)!r} needs a host and a database name",
                hint=f"e.g. {scheme}://user@127.0.0.1:{DEFAULT_PORTS[dialect]}/mydb",
            )
        try:
            port = parts.port or DEFAULT_PORTS[dialect]
        except ValueError as error:
            raise DatabaseURLError(f"database URL {mask(url)!r}: {error}") from None
        password = unquote(parts.password) if parts.password is not None else None
        if password is None and dialect == "mysql":
            password = os.environ.get("MYSQL_PWD")
        return cls(
            dialect,
            host=parts.hostname,
            port=port,
            database=unquote(database),
            user=unquote(parts.username or ""),
            password=password,
        )

    def identity(self) -> str:
        """The URL without user or password: what metadata, lineage and logs show."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.path}"
        scheme = "postgresql" if self.dialect == "postgres" else "mysql"
        return f"{scheme}://{self.host}:{self.port}/{self.database}"

    def scrub(self, text: str) -> str:
        """``text`` (a driver's message) with the password, if any, replaced by ``***``."""
        return text.replace(self.password, "***") if self.password else text


def mask(url: str) -> str:
    """A URL with its password replaced by ``***`` (for messages about a URL that failed to parse)."""
    try:
        parts = urlsplit(url)
        if parts.password:
            return url.replace(f":{parts.password}@", ":***@", 1)
    except ValueError:
        return "<unparseable URL>"
    return url
