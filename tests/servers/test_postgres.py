"""The PostgreSQL launcher: a private cluster on loopback, run by an unprivileged user, password-only access."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from linewatch.errors import ServerError
from linewatch.servers import postgres as pg_module
from linewatch.servers.postgres import PostgresServer

ROOT = os.geteuid() == 0


def _uids(pid: int) -> list[int]:
    """Real, effective, saved and filesystem uid of a process (``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return [int(v) for v in line.split()[1:]]
    raise AssertionError(f"no Uid line for pid {pid}")


def test_answers_a_query_over_tcp_with_its_generated_password(postgres_server: PostgresServer) -> None:
    with psycopg.connect(**postgres_server.connection_params()) as conn:
        user, version = conn.execute("SELECT current_user, current_setting('server_version_num')").fetchone()
    assert user == "linewatch"
    assert int(version) >= 150000


def test_dsn_connects_and_names_the_database(postgres_server: PostgresServer, postgres_db: str) -> None:
    with psycopg.connect(postgres_server.dsn(postgres_db)) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (postgres_db,)


@pytest.mark.parametrize("password", ["wrong-password", ""], ids=["wrong", "empty"])
def test_tcp_login_needs_the_password(postgres_server: PostgresServer, password: str) -> None:
    params = {**postgres_server.connection_params(), "password": password}
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(**params, connect_timeout=10)


def test_postgres_refuses_root_so_it_runs_as_the_postgres_user(postgres_server: PostgresServer) -> None:
    """Regression: postgres exits with "root execution of the PostgreSQL server is not permitted" under root."""
    assert postgres_server.pid is not None
    uids = _uids(postgres_server.pid)
    assert set(uids) == {postgres_server.account.uid}
    assert 0 not in uids
    if ROOT:
        assert postgres_server.account.name == "postgres"


def test_work_and_data_dirs_are_0700_and_owned_by_the_server_user(postgres_server: PostgresServer) -> None:
    for path in (postgres_server.work_dir, postgres_server.data_dir):
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o700, path
        assert info.st_uid == postgres_server.account.uid, path
    assert stat.S_IMODE(postgres_server.password_path.stat().st_mode) == 0o600


def test_system_temp_dir_keeps_its_mode(postgres_server: PostgresServer) -> None:
    """The private folder is a new one under /tmp; /tmp itself (and its sticky bit) is left as it was."""
    parent = postgres_server.work_dir.parent
    assert stat.S_IMODE(parent.stat().st_mode) == 0o1777


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss")
def test_only_listener_is_the_loopback_port_and_no_unix_socket(postgres_server: PostgresServer) -> None:
    out = subprocess.run(["ss", "-H", "-lntpx"], capture_output=True, text=True, check=True).stdout
    mine = [line.split()[4] for line in out.splitlines() if f"pid={postgres_server.pid}," in line]
    assert mine == [f"127.0.0.1:{postgres_server.port}"]
    assert postgres_server.psql("SHOW unix_socket_directories").strip() == ""


def test_second_database_is_separate(postgres_server: PostgresServer, postgres_db: str) -> None:
    other = f"lw_test_{uuid.uuid4().hex[:12]}"
    postgres_server.create_database(other)
    try:
        assert {postgres_db, other} <= set(postgres_server.databases())
        with psycopg.connect(**postgres_server.connection_params(postgres_db)) as conn:
            conn.execute("CREATE TABLE line (name text PRIMARY KEY)")
            conn.execute("INSERT INTO line VALUES ('FRA-MPLS-1')")
        with psycopg.connect(**postgres_server.connection_params(other)) as conn:
            assert conn.execute("SELECT to_regclass('public.line')").fetchone() == (None,)
    finally:
        postgres_server.drop_database(other)
    assert other not in postgres_server.databases()


def test_existing_database_name_is_an_error(postgres_server: PostgresServer, postgres_db: str) -> None:
    with pytest.raises(ServerError, match=f'database "{postgres_db}" already exists'):
        postgres_server.create_database(postgres_db)


@pytest.mark.parametrize(
    "name",
    ["LineWatch", 'x"; DROP DATABASE postgres; --', "1st", "a" * 64, "", "with space"],
    ids=["upper-case", "quote-injection", "leading-digit", "too-long", "empty", "space"],
)
def test_bad_database_name_is_refused_before_any_sql(postgres_server: PostgresServer, name: str) -> None:
    with pytest.raises(ValueError, match="database name .* must match"):
        postgres_server.create_database(name)


def test_password_stays_out_of_repr_and_server_log(postgres_server: PostgresServer) -> None:
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(**{**postgres_server.connection_params(), "password": "bad"}, connect_timeout=10)
    assert postgres_server.password not in repr(postgres_server)
    assert postgres_server.password not in postgres_server.log_path.read_text()


def test_stop_is_fast_shutdown_even_with_an_open_session() -> None:
    """Regression: SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to disconnect (the
    launcher would hang until SIGKILL, leaving an unclean cluster). Fast shutdown ends sessions and stops cleanly."""
    server = PostgresServer(stop_timeout_s=60)
    try:
        server.start()
        pid = server.pid
        conn = psycopg.connect(**server.connection_params())
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")
        conn.commit()
        server.stop()  # the session above is still open
        assert not server.running
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # type: ignore[arg-type]
        log = server.log_path.read_text()
        assert "received fast shutdown request" in log
        assert "database system is shut down" in log
        conn.close()
        port = server.port
        server.start()
        assert server.port == port
        with psycopg.connect(**server.connection_params()) as again:
            assert again.execute("SELECT v FROM kept").fetchall() == [(42,)]
    finally:
        server.cleanup()
    assert not server.work_dir.exists()


def test_given_work_dir_keeps_data_and_password_for_a_new_launcher(tmp_path: Path) -> None:
    """A work folder the caller names (here a new one under /tmp) is reused by a second launcher object."""
    work = Path(f"/tmp/linewatch-pgtest-{uuid.uuid4().hex[:8]}")
    try:
        with PostgresServer(work) as first:
            first.create_database("lw_keep")
        second = PostgresServer(work)
        try:
            second.start()
            assert "lw_keep" in second.databases()
        finally:
            second.cleanup()
        assert work.exists(), "a named work folder is the caller's and stays"
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.skipif(not ROOT, reason="only root switches to the postgres user")
def test_work_dir_the_server_user_cannot_reach_is_named_not_chmodded(tmp_path: Path) -> None:
    """pytest's own temp folders are 0700 root: the error names the folder; its mode is left alone."""
    blocked = next(p for p in [*reversed(tmp_path.parents), tmp_path] if stat.S_IMODE(p.stat().st_mode) & 0o001 == 0)
    before = blocked.stat().st_mode
    with pytest.raises(ServerError, match=rf"runs as 'postgres', who cannot enter {blocked} \(mode"):
        PostgresServer(tmp_path / "pg").start()
    assert blocked.stat().st_mode == before
    assert not (tmp_path / "pg").exists()


def test_port_in_use_fails_with_log_tail() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = PostgresServer(port=taken.getsockname()[1])
        try:
            with pytest.raises(ServerError, match="(?s)exited with code.*could not bind"):
                server.start()
            assert not server.running
        finally:
            server.cleanup()


def test_missing_server_binaries_name_package_and_installer(tmp_path: Path) -> None:
    with pytest.raises(ServerError, match="initdb.*'postgresql' package.*scripts/ensure-sysdeps.sh"):
        pg_module.pg_bin_dir(lib_dir=tmp_path)


def test_missing_run_as_user_is_named() -> None:
    with pytest.raises(ServerError, match="user 'no-such-lw-user' does not exist"):
        PostgresServer(run_as="no-such-lw-user")


def test_server_left_running_is_stopped_and_its_folder_removed_at_interpreter_exit() -> None:
    script = (
        "from linewatch.servers.postgres import PostgresServer; s = PostgresServer().start(); "
        "print(s.pid, s.work_dir)"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    pid, work_dir = run.stdout.split()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)
    assert not Path(work_dir).exists()
