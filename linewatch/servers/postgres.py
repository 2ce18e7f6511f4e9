"""Launch a private PostgreSQL cluster (Debian's ``postgresql``, 15 in Debian 12) on a loopback TCP port.

The binaries come from ``/usr/lib/postgresql/<version>/bin`` (the newest installed version); nothing of the
package's own cluster management (``pg_ctlcluster``, ``/etc/postgresql``, ``/var/lib/postgresql``) is used.

Everything lives under ``work_dir``: ``data/`` (``initdb``'s cluster), ``postgres.log`` and ``password`` (the
superuser's generated password, 0600, so a second launcher on the same folder can connect again).

**Who runs it.** PostgreSQL refuses to run as root. Run as root (the test containers, ``make test`` under
sudo), the launcher runs ``initdb`` and ``postgres`` as the ``postgres`` system user, which Debian's
``postgresql-common`` creates when it is installed: a dedicated account with no login shell use of its own
here, unlike ``nobody``, which other daemons share and which must own no files. No system permission is
loosened: with no ``work_dir`` given, the launcher makes a fresh folder under the system temporary directory
(``/tmp``, world-traversable), owned by that user with mode 0700, and the data directory inside it is 0700 too
(``initdb`` insists). A given ``work_dir`` must be reachable by that user; the launcher says which parent
folder is not instead of changing its mode. Run as anyone else, the servers run as that user.

**Access.** The only listener is ``127.0.0.1:port`` (``listen_addresses``; the Unix socket is off, so no lock
file lands in ``/var/run/postgresql`` or ``/tmp``). Every connection authenticates with ``scram-sha-256``
(``initdb --auth``) as the superuser ``linewatch`` with a password from :mod:`secrets`. ``dsn(name)`` gives a
``postgresql://`` URL, ``connection_params(name)`` the same as keyword arguments (``psycopg.connect(**...)``,
Django's ``DATABASES``). The password is passed to ``psql`` through ``PGPASSWORD`` (never in ``argv``) and
left out of ``repr``.

**Speed over durability.** It is a test server: ``fsync``, ``full_page_writes`` and ``synchronous_commit``
are off, so a crash of the machine may lose the cluster; a crash of ``postgres`` does not.

Stopping is PostgreSQL's *fast* shutdown (SIGINT: open sessions are disconnected, unlike SIGTERM's "smart"
mode, which waits for every client to leave). ``stop()`` then ``start()`` keeps the data and the port::

    with PostgresServer() as pg:
        dsn = pg.create_database("lw_web")
        psycopg.connect(dsn).execute("SELECT 1")
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from linewatch.errors import ServerError
from linewatch.fileperms import write_private
from linewatch.servers.account import ServiceAccount
from linewatch.servers.ports import LOOPBACK, free_tcp_port
from linewatch.servers.process import LocalServer, ServerProcess, clean_env

PG_LIB_DIR = Path("/usr/lib/postgresql")
SUPERUSER = "linewatch"
# The account Debian's postgresql-common creates; used when we are root (postgres refuses to run as root).
ROOT_RUNS_AS = "postgres"
# Plain identifiers only: no quoting games in CREATE DATABASE, and what Django and psql accept unquoted.
DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

_SETTINGS = {
    "listen_addresses": LOOPBACK,
    "unix_socket_directories": "",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "shared_buffers": "32MB",
    "max_connections": "50",
    "logging_collector": "off",
    "log_destination": "stderr",
    "log_connections": "off",
    "password_encryption": "scram-sha-256",
    "ssl": "off",
}


def pg_bin_dir(*, lib_dir: Path = PG_LIB_DIR) -> Path:
    """``/usr/lib/postgresql/<newest version>/bin`` holding ``initdb``, ``postgres``, ``pg_isready``, ``psql``."""
    versions = sorted(
        (int(d.name), d / "bin")
        for d in (lib_dir.iterdir() if lib_dir.is_dir() else ())
        if d.name.isdigit() and (d / "bin" / "initdb").is_file()
    )
    if not versions:
        raise ServerError(
            f"PostgreSQL server binaries not found (no {lib_dir}/<version>/bin/initdb): install Debian's "
            "'postgresql' package; `make test` and `make run` do it through scripts/ensure-sysdeps.sh"
        )
    return versions[-1][1]


def _check_database_name(name: str) -> str:
    if not DATABASE_NAME.fullmatch(name):
        raise ValueError(
            f"database name {name!r} must match {DATABASE_NAME.pattern} (lower-case letters, digits and _, "
            "at most 63 characters, not starting with a digit)"
        )
    return name


class PostgresServer(LocalServer):
    """A private PostgreSQL cluster on 127.0.0.1; ``start()`` returns once ``pg_isready`` says it accepts.

    ``stop()`` is a fast shutdown (SIGINT), SIGKILL if it hangs; the data stays, so ``start()`` brings it
    back.
    ``pid`` is the postmaster's (it runs as ``run_as``).
    """

    _not_ready = "did not accept connections"

    def __init__(
        self,
        work_dir: Path | None = None,
        *,
        port: int | None = None,
        run_as: str | None = None,
        start_timeout_s: float = 30.0,
        stop_timeout_s: float = 15.0,
    ):
        self.account = ServiceAccount.for_server(
            run_as, server="PostgreSQL", root_default=ROOT_RUNS_AS, package="postgresql-common"
        )
        self.work_dir = self._adopt_work_dir(work_dir, prefix="linewatch-postgres-")
        self.data_dir = self.work_dir / "data"
        self.log_path = self.work_dir / "postgres.log"
        self.password_path = self.work_dir / "password"
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._ports_chosen_by_us = port is None
        self.port = port if port is not None else free_tcp_port()
        self.host = LOOPBACK
        self.user = SUPERUSER
        self._password: str | None = None
        self._process = ServerProcess(name="postgres", log_path=self.log_path)
        self._bin_dir = Path()  # pg_bin_dir(), found by start()

    # -- connection facts ------------------------------------------------------------------------------

    @property
    def password(self) -> str:
        """The superuser's password (generated at the first ``initdb`` of ``work_dir``)."""
        if self._password is None:
            try:
                self._password = self.password_path.read_text().strip()
            except OSError as exc:
                raise ServerError(
                    f"PostgreSQL in {self.work_dir}: no password yet ({exc}); start() the server first"
                ) from None
        return self._password

    def dsn(self, dbname: str = "postgres") -> str:
        """``postgresql://linewatch:<password>@127.0.0.1:<port>/<dbname>`` (contains the password: do not log)."""
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(dbname, safe='')}"
        )

    def connection_params(self, dbname: str = "postgres") -> dict[str, str | int]:
        """``host``, ``port``, ``user``, ``password``, ``dbname``: keyword arguments for ``psycopg.connect``."""
        return {"host": self.host, "port": self.port, "user": self.user, "password": self.password,
                "dbname": dbname}  # fmt: skip

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        """``initdb`` on the first start, then run ``postgres`` and wait until it accepts connections."""
        if self.running:
            return self
        self._bin_dir = pg_bin_dir()
        self.account.claim(self.work_dir, server="PostgreSQL")
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb(self._bin_dir)
        _ = self.password  # a work dir without its password file cannot be used: say so before starting
        self._start_with_port_retry()
        return self

    def __repr__(self) -> str:  # the password stays out of logs and test output
        return (
            f"PostgresServer(host={self.host!r}, port={self.port}, user={self.user!r}, password='<secret>', "
            f"work_dir={str(self.work_dir)!r}, run_as={self.account.name!r}, running={self.running})"
        )

    # -- databases -------------------------------------------------------------------------------------

    def psql(self, sql: str, *, dbname: str = "postgres", timeout_s: float = 30.0) -> str:
        """Run SQL through ``psql`` over TCP (``ON_ERROR_STOP``); returns unaligned, tuples-only output."""
        psql = pg_bin_dir() / "psql"
        argv = [str(psql), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.host,
                "-p", str(self.port), "-U", self.user, "-d", dbname, "-c", sql]  # fmt: skip
        env = clean_env(drop_prefixes=("PG",), extra={"PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "10"})
        try:
            run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise ServerError(f"psql on {self.host}:{self.port}/{dbname}: no answer within {timeout_s} s") from None
        if run.returncode != 0:
            raise ServerError(f"psql on {self.host}:{self.port}/{dbname}: {run.stderr.strip()} (SQL: {sql})")
        return run.stdout

    def create_database(self, name: str) -> str:
        """``CREATE DATABASE name`` (owned by the superuser); returns its DSN. An existing name is an error."""
        self.psql(f'CREATE DATABASE "{_check_database_name(name)}"')
        return self.dsn(name)

    def drop_database(self, name: str) -> None:
        """``DROP DATABASE IF EXISTS name WITH (FORCE)``: sessions still connected to it are ended."""
        self.psql(f'DROP DATABASE IF EXISTS "{_check_database_name(name)}" WITH (FORCE)')

    def databases(self) -> list[str]:
        """Names of the databases that accept connections (no templates)."""
        out = self.psql("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname")
        return out.split()

    # -- internals -------------------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        # PG* variables (PGDATA, PGPORT, ...) would override what we pass; HOME is the account's private folder.
        return clean_env(drop_prefixes=("PG", "LC_"), extra={"HOME": str(self.work_dir), "LANG": "C.UTF-8"})

    def _initdb(self, bin_dir: Path) -> None:
        password = secrets.token_urlsafe(24)
        pwfile = self.work_dir / "initdb-password"
        write_private(pwfile, password + "\n", fsync=False)
        try:
            self.account.give(pwfile)  # initdb runs as the account and reads it
            argv = [str(bin_dir / "initdb"), "-D", str(self.data_dir), f"--username={self.user}",
                    f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8",
                    "--no-sync", "--no-instructions"]  # fmt: skip
            try:
                run = subprocess.run(
                    self.account.wrap(argv), env=self._env(), cwd=self.work_dir, capture_output=True,
                    text=True, timeout=120, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                raise ServerError(f"initdb of {self.data_dir} took more than 120 s") from None
            if run.returncode != 0:
                raise ServerError(
                    f"initdb of {self.data_dir} failed (code {run.returncode}):\n{(run.stdout + run.stderr)[-3000:]}"
                )
        finally:
            pwfile.unlink(missing_ok=True)
        write_private(self.password_path, password + "\n", fsync=False)
        self._password = password

    def _spawn(self) -> None:
        argv = [str(self._bin_dir / "postgres"), "-D", str(self.data_dir), "-c", f"port={self.port}"]
        for key, value in _SETTINGS.items():
            argv += ["-c", f"{key}={value}"]
        self._process.spawn(self.account.wrap(argv), env=self._env(), cwd=self.work_dir)

    def _probe(self) -> bool:
        isready = [str(self._bin_dir / "pg_isready"), "-q", "-h", self.host, "-p", str(self.port), "-t", "2"]
        env = clean_env(drop_prefixes=("PG",))
        try:
            return subprocess.run(isready, env=env, timeout=10, check=False).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def _port_taken(self, *, exited: bool, new_log: str) -> bool:
        return "could not bind" in new_log

    def _fresh_ports(self) -> None:
        self.port = free_tcp_port()

    def _where(self) -> str:
        return f"postgres on {self.host}:{self.port} (data dir {self.data_dir})"

    def _stop_process(self) -> None:  # fast shutdown (SIGINT), SIGKILL if it hangs
        pid = self._process.pid
        if self._process.running and pid is not None:
            try:
                os.kill(pid, signal.SIGINT)  # fast shutdown
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + self.stop_timeout_s
            while self._process.running and time.monotonic() < deadline:
                time.sleep(0.05)
        self._process.stop(timeout_s=self.stop_timeout_s)  # reaps; SIGTERM/SIGKILL only if still there
