"""The Kamailio launcher: a private SIP proxy on loopback as the unprivileged account, its generated config, the one
CDR file every process appends to (and its rotation), JSON-RPC over HTTP."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.voice.pbx import CALLER_XML, CARRIER_XML, KAMAILIO_CFG
from linewatch.errors import ServerError
from linewatch.servers.account import ServiceAccount
from linewatch.servers.kamailio import KamailioServer, KamailioTrunk
from linewatch.servers.sipp import SippCall, SippRun

ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def carrier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SippRun]:
    run = SippRun(CARRIER_XML, work_dir=tmp_path_factory.mktemp("carrier"), name="carrier").start()
    try:
        yield run
    finally:
        run.stop()


@pytest.fixture(scope="module")
def kamailio(carrier: SippRun) -> Iterator[KamailioServer]:
    server = KamailioServer(template=KAMAILIO_CFG, trunks=[KamailioTrunk("t1", 5, carrier.address, "7")])
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


def _call(kamailio: KamailioServer, tmp_path: Path, *calls: SippCall) -> SippRun:
    run = SippRun(CALLER_XML, work_dir=tmp_path, name="caller", remote=kamailio.sip_uri, calls=calls, rate_per_s=20)
    run.start().wait(timeout_s=20)
    return run


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"name": "bad name"}, "trunk name"), ({"channels": 0}, "channels must be at least 1"),
     ({"extensions": "3x"}, "extensions must be a digit prefix"), ({"dids": "+49"}, "dids must be a digit prefix")],
    ids=["name", "channels", "extensions", "dids"],
)
def test_a_bad_trunk_is_refused_naming_the_field(kwargs: dict, message: str) -> None:
    fields = {"name": "t1", "channels": 2, "carrier": ("127.0.0.1", 5070), "extensions": "31"} | kwargs
    with pytest.raises(ValueError, match=message):
        KamailioTrunk(**fields)


def test_a_template_with_an_unknown_marker_is_refused(tmp_path: Path) -> None:
    template = tmp_path / "k.cfg"
    template.write_text(KAMAILIO_CFG.read_text() + "\n# @@NO_SUCH_THING@@\n")
    server = KamailioServer(tmp_path / "work", template=template, trunks=[])
    with pytest.raises(ServerError, match="@@NO_SUCH_THING@@"):
        server.config_text()


def test_rpc_answers_and_names_an_unknown_method(kamailio: KamailioServer) -> None:
    assert "kamailio 5." in str(kamailio.rpc("core.version"))
    with pytest.raises(ServerError, match="no.such.method"):
        kamailio.rpc("no.such.method")


@pytest.mark.skipif(not ROOT, reason="the account switch happens only when started by root")
def test_runs_as_the_kamailio_account_in_a_private_folder(kamailio: KamailioServer) -> None:
    info = kamailio.work_dir.stat()
    assert kamailio.account.name == "kamailio" and info.st_uid == kamailio.account.uid
    assert stat.S_IMODE(info.st_mode) == 0o700
    status = Path(f"/proc/{kamailio.pid}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert set(uid_line.split()[1:]) == {str(kamailio.account.uid)}


def test_a_caller_without_a_trunk_is_refused_without_a_cdr(kamailio: KamailioServer, tmp_path: Path) -> None:
    before = kamailio.cdr_path.read_text()
    run = _call(kamailio, tmp_path, SippCall("5000", "+4969123456"))
    assert run.counts().received["403"] == 1
    assert kamailio.cdr_path.read_text() == before


def test_rotated_cdrs_keep_the_old_calls_and_new_calls_go_to_a_new_file(kamailio: KamailioServer,
                                                                        tmp_path: Path) -> None:  # fmt: skip
    first = _call(kamailio, tmp_path / "a", SippCall("7001", "+4969000001", 0.2))
    rotated = kamailio.rotate_cdrs(kamailio.cdr_path.with_name(kamailio.cdr_path.name + ".1"))
    second = _call(kamailio, tmp_path / "b", SippCall("7002", "+4969000002", 0.2))
    old, new = rotated.read_text(), kamailio.cdr_path.read_text()
    assert first.call_id_suffix in old and second.call_id_suffix not in old
    assert new.count("\n") == 1 and second.call_id_suffix in new


def test_stop_keeps_the_cdr_file_and_restart_appends(carrier: SippRun, tmp_path: Path) -> None:
    folder = ServiceAccount.for_server(None, server="kamailio", root_default="kamailio", package="kamailio")
    cdr = folder.private_dir(prefix="lw-test-cdr-") / "calls.log"
    server = KamailioServer(template=KAMAILIO_CFG, trunks=[KamailioTrunk("t2", 2, carrier.address, "8")],
                            cdr_path=cdr)  # fmt: skip
    try:
        server.start()
        _call(server, tmp_path / "a", SippCall("8001", "+4969000003", 0.1))
        server.restart()
        _call(server, tmp_path / "b", SippCall("8002", "+4969000004", 0.1))
        server.stop()
        assert [line.split("|")[6] for line in cdr.read_text().splitlines()] == ["8001", "8002"]
    finally:
        server.cleanup()
        shutil.rmtree(cdr.parent)
