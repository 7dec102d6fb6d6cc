"""A throwaway PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

:class:`PostgresTestServer` finds the server binaries (``/usr/lib/postgresql/<version>/bin``, then
``PATH``), creates a cluster in a temporary folder, starts it on ``127.0.0.1`` and a free port,
and stops it again. PostgreSQL refuses to run as root, so when the tests run as root (CI does)
every server command runs as the ``postgres`` system user that the Debian packages create
(``runuser -u postgres -- ...``), and the folder belongs to that user.

Authentication is ``trust`` for the superuser ``weir`` and for everyone else, except roles made by
:meth:`PostgresTestServer.add_password_role`, which must give their password (SCRAM) so that
wrong-password errors can be tested. Durability is off (``fsync=off``): the data is thrown away.

Example (a pytest fixture)::

    @pytest.fixture(scope="session")
    def pg_server():
        server = PostgresTestServer()
        server.start()
        yield server
        server.cleanup()

This module imports neither pytest nor psycopg at import time.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

__all__ = ["PostgresServerUnavailable", "PostgresTestServer", "find_server_bindir"]

logger = logging.getLogger(__name__)

SUPERUSER = "weir"
PASSWORD_GROUP = "weir_password_auth"
_PREFERRED_VERSIONS = ("15", "16", "17", "14", "13")
_INSTALL_HINT = (
    "Install PostgreSQL 15 (Debian/Ubuntu: `apt-get install -y --no-install-recommends "
    "postgresql-15`, or `postgresql postgresql-contrib`); CI's `.ci/run` does this when `initdb` "
    "is missing."
)


class PostgresServerUnavailable(RuntimeError):
    """The server binaries are missing, or the server could not be set up or started."""


def find_server_bindir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: ``/usr/lib/postgresql/15/bin`` first, then
    other versions there, then ``PATH``; ``None`` when there is none."""
    for version in _PREFERRED_VERSIONS:
        candidate = Path("/usr/lib/postgresql") / version / "bin"
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    found = shutil.which("initdb")
    if found is not None:
        folder = Path(found).resolve().parent
        if (folder / "pg_ctl").is_file():
            return folder
        pg_ctl = shutil.which("pg_ctl")
        if pg_ctl is not None and Path(pg_ctl).resolve().parent == folder:
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresTestServer:
    """One PostgreSQL cluster in a temporary folder, on ``127.0.0.1`` and a free port.

    ``start()`` creates and starts it, ``stop()``/``restart()`` stop it (fast shutdown: open
    connections are terminated) and start it again on the same folder and port, ``cleanup()``
    stops it and removes the folder. ``create_database()`` makes a fresh database per test.
    """

    def __init__(self, bindir: str | os.PathLike[str] | None = None) -> None:
        found = Path(bindir) if bindir is not None else find_server_bindir()
        if found is None:
            msg = (
                "Cannot start a PostgreSQL test server: `initdb`/`pg_ctl` were found neither in "
                f"/usr/lib/postgresql/<version>/bin nor on PATH. {_INSTALL_HINT}"
            )
            raise PostgresServerUnavailable(msg)
        self.bindir = found
        self.host = "127.0.0.1"
        self.user = SUPERUSER
        self.port: int = 0
        self.root: Path | None = None
        self._running = False
        self._run_as = self._system_user()

    # -- how commands run ---------------------------------------------------------------------
    @staticmethod
    def _system_user() -> str | None:
        """``"postgres"`` when we are root (the server refuses to run as root), else ``None``."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            msg = (
                "Cannot start a PostgreSQL test server as root: the server refuses to run as root "
                "and there is no `postgres` system user to run it as. " + _INSTALL_HINT
            )
            raise PostgresServerUnavailable(msg) from None
        if shutil.which("runuser") is None:
            msg = (
                "Cannot start a PostgreSQL test server as root: `runuser` (util-linux) is missing."
            )
            raise PostgresServerUnavailable(msg)
        return "postgres"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._run_as is not None:
            command = ["runuser", "-u", self._run_as, "--", *command]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            cwd=str(self.root) if self.root is not None else None,
        )
        if result.returncode != 0:
            msg = (
                f"`{' '.join(command)}` failed (exit {result.returncode}).\n"
                f"stdout: {result.stdout.strip()}\nstderr: {result.stderr.strip()}"
                + self._log_tail()
            )
            raise PostgresServerUnavailable(msg)
        return result

    def _log_tail(self) -> str:
        log = self.root / "server.log" if self.root is not None else None
        if log is None or not log.is_file():
            return ""
        lines = log.read_text(errors="replace").splitlines()[-20:]
        return "\nserver log (last lines):\n" + "\n".join(lines)

    @property
    def data_dir(self) -> Path:
        if self.root is None:
            msg = "The PostgreSQL test server has not been created yet: call start() first."
            raise PostgresServerUnavailable(msg)
        return self.root / "data"

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Create the cluster (first call only) and start the server; waits until it accepts
        connections."""
        if self._running:
            return
        if self.root is None:
            self._create_cluster()
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.root / "server.log"),  # type: ignore[operator]
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses={self.host} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off",
            "-w",
            "-t",
            "60",
            "start",
        )
        self._running = True
        logger.debug("PostgreSQL test server started on %s:%s", self.host, self.port)

    def _create_cluster(self) -> None:
        root = Path(tempfile.mkdtemp(prefix="weir-pg-"))
        self.root = root
        if self._run_as is not None:
            import pwd

            entry = pwd.getpwnam(self._run_as)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        self.port = _free_port()
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        # First match wins: members of PASSWORD_GROUP must send a password, everyone else is trusted.
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            f"host all +{PASSWORD_GROUP} 127.0.0.1/32 scram-sha-256\n"
            f"host all +{PASSWORD_GROUP} ::1/128 scram-sha-256\n"
            "host all all 127.0.0.1/32 trust\n"
            "host all all ::1/128 trust\n"
        )

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are terminated)."""
        if not self._running:
            return
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        self._running = False

    def restart(self) -> None:
        """Stop the server and start it again on the same folder and port."""
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self.stop()
        finally:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None

    @property
    def is_running(self) -> bool:
        return self._running

    # -- databases and roles ------------------------------------------------------------------
    def connection_kwargs(self, database: str = "postgres") -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` (superuser, no password)."""
        return {"host": self.host, "port": self.port, "user": self.user, "dbname": database}

    def url(self, database: str = "postgres", *, driver: str = "postgresql") -> str:
        """``postgresql://weir@127.0.0.1:PORT/DATABASE`` (``driver`` may be ``postgresql+psycopg``)."""
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def _admin(self, statement: Any, params: Any = None) -> None:
        import psycopg

        with psycopg.connect(**self.connection_kwargs(), autocommit=True) as conn:
            conn.execute(statement, params)

    def create_database(self, name: str | None = None) -> str:
        """Create a database (a unique name unless given) and return its name."""
        from psycopg import sql

        name = name or f"test_{uuid.uuid4().hex[:12]}"
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def add_password_role(self, name: str, password: str) -> None:
        """Create a login role that must authenticate with ``password`` over TCP."""
        from psycopg import sql

        self._admin(
            sql.SQL(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {g}) "
                "THEN CREATE ROLE {gi} NOLOGIN; END IF; END $$"
            ).format(g=sql.Literal(PASSWORD_GROUP), gi=sql.Identifier(PASSWORD_GROUP))
        )
        self._admin(
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {} IN ROLE {}").format(
                sql.Identifier(name), sql.Literal(password), sql.Identifier(PASSWORD_GROUP)
            )
        )
