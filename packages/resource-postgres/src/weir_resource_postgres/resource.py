"""``PostgresResource``: psycopg 3 connections and a SQLAlchemy engine from pydantic config.

The connection fields live in :class:`PostgresConnectionConfig`, which the IO manager shares, so
``PostgresResource(host=..., database=...)`` and ``PostgresPandasIOManager(host=..., database=...)``
take the same keys. Either give the parts (``host``, ``port``, ``user``, ``password``,
``database``, ``sslmode``, ``params``) or a libpq ``url``/DSN; parts given next to a ``url``
override the URL's values.

The password is a secret: it never appears in reprs, error messages, logs or events (a password
inside ``url`` is masked too). Give it as ``EnvVar("PGPASSWORD")`` to read it at run time.
Connection failures raise :class:`PostgresConnectionError` naming ``host:port/database`` and the
user, with the server's reason, never the password.

psycopg and SQLAlchemy are imported when a connection or engine is first made, not on import.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Optional

from pydantic import Field, PrivateAttr

import weir as dg
from weir.errors import ResourceError

if TYPE_CHECKING:
    import psycopg
    import sqlalchemy

__all__ = ["PostgresConnectionConfig", "PostgresConnectionError", "PostgresResource"]

logger = logging.getLogger(__name__)

APPLICATION_NAME = "weir"
_URL_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@?#]*:)(?P<secret>[^@/?#]*)(?=@)", re.I
)
_DSN_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&#]*)", re.I)


class PostgresConnectionError(ResourceError):
    """PostgreSQL could not be reached, refused the login, or dropped the connection."""


def mask_password(text: str, password: str | None = None) -> str:
    """``text`` with any password in it (URL userinfo, ``password=`` pairs, or ``password``
    itself) replaced by ``***``."""
    masked = _URL_PASSWORD.sub(r"\g<head>***", text)
    masked = _DSN_PASSWORD.sub(r"\g<head>***", masked)
    masked = _QUERY_PASSWORD.sub(r"\g<head>***", masked)
    if password:
        masked = masked.replace(password, "***")
    return masked


class PostgresConnectionConfig(dg.ConfigurableResource):
    """The connection fields shared by :class:`PostgresResource` and the Postgres IO manager."""

    host: Optional[str] = Field(
        default=None, description="Server host name or address (default: libpq's, e.g. localhost)."
    )
    port: Optional[int] = Field(default=None, description="Server port (default: 5432).")
    user: Optional[str] = Field(default=None, description="Role to log in as.")
    password: Optional[str] = Field(
        default=None,
        description="The role's password; a secret (use EnvVar). Never shown in reprs or errors.",
    )
    database: Optional[str] = Field(default=None, description="Database name.")
    sslmode: Optional[str] = Field(
        default=None, description="libpq sslmode: disable, prefer, require, verify-full ..."
    )
    connect_timeout: int = Field(default=10, description="Seconds to wait for a connection.")
    params: dict[str, str] = Field(
        default_factory=dict,
        description="Extra libpq connection parameters, e.g. {'options': '-c search_path=app'}.",
    )
    url: Optional[str] = Field(
        default=None,
        description=(
            "A libpq URL or DSN (postgresql://user:pw@host:5432/db?sslmode=require). Fields given "
            "as well override the URL's values. Its password is masked like the password field."
        ),
    )

    _engine: Any = PrivateAttr(default=None)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            if name == "url" and isinstance(value, str) and not isinstance(value, dg.EnvVar):
                yield name, mask_password(value)
            else:
                yield name, value

    # -- connection parameters --------------------------------------------------------------------
    def connection_kwargs(self) -> dict[str, Any]:
        """The keyword arguments for ``psycopg.connect`` (they include the password)."""
        from psycopg.conninfo import conninfo_to_dict

        kwargs: dict[str, Any] = {}
        if self.url:
            url = self.url
            if url.startswith("postgresql+psycopg://"):  # SQLAlchemy spelling
                url = "postgresql://" + url[len("postgresql+psycopg://") :]
            try:
                kwargs.update(conninfo_to_dict(url))
            except Exception as exc:
                msg = (
                    f"The PostgreSQL url {mask_password(url)!r} does not parse: "
                    f"{mask_password(str(exc), self.password)}. Write postgresql://user@host:port/database."
                )
                raise PostgresConnectionError(msg) from None
        parts = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.database,
            "sslmode": self.sslmode,
        }
        kwargs.update({k: v for k, v in parts.items() if v is not None})
        kwargs.setdefault("connect_timeout", self.connect_timeout)
        kwargs.setdefault("application_name", APPLICATION_NAME)
        kwargs.update(self.params)
        return kwargs

    def describe_target(self) -> str:
        """``host:port/database (user ...)`` for messages; never the password."""
        try:
            kw = self.connection_kwargs()
        except PostgresConnectionError:
            return "an unparsable PostgreSQL url"
        host = kw.get("host") or "localhost"
        port = kw.get("port") or 5432
        database = kw.get("dbname") or kw.get("user") or "(default database)"
        user = f" as user {kw['user']!r}" if kw.get("user") else ""
        return f"{host}:{port}/{database}{user}"

    def _secret(self) -> str | None:
        try:
            return self.connection_kwargs().get("password")
        except PostgresConnectionError:
            return self.password

    def _connection_failed(
        self, exc: BaseException, doing: str, advice: str | None = None
    ) -> PostgresConnectionError:
        reason = mask_password(str(exc).strip(), self._secret()) or type(exc).__name__
        advice = advice or (
            "Check that the server is running and reachable, and the host, port, database, user "
            "and password config."
        )
        return PostgresConnectionError(
            f"{doing} PostgreSQL at {self.describe_target()}: {reason.rstrip('.')}. {advice}"
        )

    # -- connections --------------------------------------------------------------------------------
    def connect(self, *, autocommit: bool = False) -> psycopg.Connection[Any]:
        """A new psycopg connection (the caller closes it); prefer :meth:`get_connection`.

        Raises:
            PostgresConnectionError: the server cannot be reached or refuses the login.
        """
        import psycopg

        try:
            return psycopg.connect(**self.connection_kwargs(), autocommit=autocommit)
        except psycopg.OperationalError as exc:
            raise self._connection_failed(exc, "Could not connect to") from None

    @contextmanager
    def get_connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A psycopg 3 connection for one transaction: committed when the block succeeds, rolled
        back when it raises, closed either way.

        Example::

            with postgres.get_connection() as conn:
                conn.execute("INSERT INTO t VALUES (%s)", [1])

        Raises:
            PostgresConnectionError: cannot connect, or the connection broke inside the block
                (e.g. the server restarted); the transaction was rolled back by the server.
        """
        import psycopg

        conn = self.connect()
        try:
            yield conn
            conn.commit()
        except psycopg.OperationalError as exc:
            _rollback_quietly(conn)
            if conn.broken or conn.closed:
                advice = (
                    "The transaction was not committed: nothing it wrote was kept. The server may "
                    "have restarted or the network dropped; run again once it is reachable."
                )
                raise self._connection_failed(exc, "Lost the connection to", advice) from exc
            raise
        except BaseException:
            _rollback_quietly(conn)
            raise
        finally:
            conn.close()

    def get_engine(self) -> sqlalchemy.engine.Engine:
        """A SQLAlchemy engine (``postgresql+psycopg``), created once per resource and reused.

        Connections come from the same parameters as :meth:`get_connection`; the pool checks a
        connection before handing it out (``pool_pre_ping``), so a server restart costs one retry,
        not an error.
        """
        if self._engine is None:
            import sqlalchemy

            self._engine = sqlalchemy.create_engine(
                "postgresql+psycopg://", creator=self.connect, pool_pre_ping=True
            )
        engine: sqlalchemy.engine.Engine = self._engine
        return engine

    def teardown_after_execution(self, context: Any) -> None:
        """Dispose of the engine's pooled connections at the end of the run."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _rollback_quietly(conn: psycopg.Connection[Any]) -> None:
    if conn.closed or conn.broken:
        return
    try:
        conn.rollback()
    except Exception:  # the original error is the one to report
        logger.debug("rollback after a failed transaction failed too", exc_info=True)


class PostgresResource(PostgresConnectionConfig):
    """A PostgreSQL database as a resource: psycopg 3 connections and a SQLAlchemy engine.

    Example::

        import weir as dg
        from weir_resource_postgres import PostgresResource

        @dg.asset
        def order_count(postgres: PostgresResource) -> int:
            with postgres.get_connection() as conn:
                return conn.execute("SELECT count(*) FROM orders").fetchone()[0]

        defs = dg.Definitions(
            assets=[order_count],
            resources={
                "postgres": PostgresResource(
                    host="db.internal", database="shop", user="etl",
                    password=dg.EnvVar("PGPASSWORD"),
                )
            },
        )
    """

    plugin_name: ClassVar[str] = "postgres"
