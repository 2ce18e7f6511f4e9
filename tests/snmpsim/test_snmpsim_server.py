"""The snmpsim launcher: drops to nobody without loosening any permission, listens on loopback only, cleans up."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from linewatch.errors import ServerError
from linewatch.servers.snmpsim import SYS_UPTIME_OID, Recording, SnmpsimServer

pytestmark = pytest.mark.slow
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="privileges are only dropped when started as root")
CLAVISTER = Recording("clavister", "network/firewall/clavister-amaranten.snmprec.bz2")  # 579 records: indexed at once


def _ids(pid: int) -> tuple[int, int]:
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    uid = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
    gid = next(int(line.split()[1]) for line in status if line.startswith("Gid:"))
    return uid, gid


@as_root
def test_snmpsim_started_as_root_runs_as_nobody_on_its_own_private_folder(snmpsim: SnmpsimServer) -> None:
    import grp
    import pwd

    assert snmpsim.pid is not None and snmpsim.runtime_dir is not None
    assert _ids(snmpsim.pid) == (pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid)
    nobody = pwd.getpwnam("nobody").pw_uid
    expected_modes = {snmpsim.runtime_dir: 0o700, snmpsim.runtime_dir / "data": 0o500,
                      snmpsim.runtime_dir / "cache": 0o700}  # fmt: skip
    for path, mode in expected_modes.items():
        st = path.stat()
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (nobody, mode), path
    for data_file in (snmpsim.runtime_dir / "data").iterdir():
        assert stat.S_IMODE(data_file.stat().st_mode) == 0o400
    assert any((snmpsim.runtime_dir / "cache").iterdir()), "indexes were built by nobody in its own cache folder"
    # The venv and the log are not handed over: still root's.
    assert snmpsim.venv.stat().st_uid == 0 and snmpsim.log_path.stat().st_uid == 0


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs iproute2's ss")
def test_only_listener_is_the_loopback_udp_port(snmpsim: SnmpsimServer) -> None:
    out = subprocess.run(["ss", "-H", "-lntup"], capture_output=True, text=True, check=True).stdout
    mine = [line.split()[4] for line in out.splitlines() if f"pid={snmpsim.pid}," in line]
    assert mine == [snmpsim.address]


def test_every_recording_answers_as_its_own_community(snmpsim: SnmpsimServer) -> None:
    for community in snmpsim.recordings:
        assert int(snmpsim.snmpget(community, [SYS_UPTIME_OID])[SYS_UPTIME_OID]) > 0
    with pytest.raises(KeyError, match="no recording 'nope'"):
        snmpsim.snmpget("nope", [SYS_UPTIME_OID])


def test_stop_ends_the_agent_and_removes_its_private_folder(tmp_path: Path) -> None:
    server = SnmpsimServer(tmp_path / "sim", [CLAVISTER]).start()
    runtime, pid = server.runtime_dir, server.pid
    assert runtime is not None and runtime.is_dir() and pid is not None
    server.stop()
    assert not runtime.exists()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    with pytest.raises(ServerError, match="failed"):
        server.snmpget("clavister", [SYS_UPTIME_OID], timeout_s=0.3, retries=0)


def test_unknown_recording_is_named(tmp_path: Path) -> None:
    server = SnmpsimServer(tmp_path / "sim", [Recording("x", "network/router/no-such-router.snmprec.bz2")])
    with pytest.raises(ServerError, match=r"recording x: .*no-such-router\.snmprec\.bz2 not found in snmpsim-data"):
        server.start()
    assert server.runtime_dir is None or not server.runtime_dir.exists()


@as_root
def test_venv_nobody_cannot_read_is_refused_not_loosened(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """A venv under a 0700 folder (like a pyenv under /root) would fail after the privilege drop: the launcher
    says which folder blocks nobody and changes no permission."""
    private = Path(tempfile.mkdtemp(prefix="linewatch-test-private-"))  # 0700 under /tmp, ours
    request.addfinalizer(lambda: shutil.rmtree(private, ignore_errors=True))
    venv = private / "venv"
    site = venv / "lib" / "python3.11" / "site-packages"
    (site / "snmpsim").mkdir(parents=True)
    (site / "snmpsim" / "__init__.py").write_text("")
    (venv / "bin").mkdir()
    for name in ("python", "snmpsim-command-responder"):
        (venv / "bin" / name).write_text("#!/bin/sh\n")
        (venv / "bin" / name).chmod(0o755)
    before = stat.S_IMODE(private.stat().st_mode)
    with pytest.raises(ServerError, match=rf"nobody, who cannot read its venv .*{private} is mode drwx------"):
        SnmpsimServer(tmp_path / "sim", [CLAVISTER], venv=venv).start()
    assert stat.S_IMODE(private.stat().st_mode) == before == 0o700
