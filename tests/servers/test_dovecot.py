"""The dovecot launcher: a private IMAP server on loopback, reached in plain text, with STARTTLS and over IMAPS,
as the unprivileged account, with mail delivered by IMAP APPEND."""

from __future__ import annotations

import imaplib
import os
import ssl
import stat
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest

from linewatch.servers.dovecot import DovecotServer, ssha512

ROOT = os.geteuid() == 0


def _message(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "billing@carrier.test", "invoices@linewatch.test", subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@carrier.test>"
    msg.set_content("Please find the invoice attached.")
    msg.add_attachment(b"Invoice;Net\n1;2\n", maintype="text", subtype="csv", filename="colt-2026-11.csv")
    return msg


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_delivered_message_is_read_back_over_each_security(dovecot_server: DovecotServer, security: str) -> None:
    mailbox = f"t-{uuid.uuid4().hex[:8]}"
    sent = _message(f"invoice {security}")
    dovecot_server.deliver(sent, mailbox=mailbox)
    with dovecot_server.connect(security=security) as imap:
        assert imap.select(mailbox)[0] == "OK"
        status, data = imap.uid("SEARCH", None, "UNSEEN")
        assert status == "OK" and len(data[0].split()) == 1
        status, fetched = imap.uid("FETCH", data[0].split()[0], "(BODY.PEEK[])")
    assert status == "OK"
    raw = fetched[0][1]
    assert sent["Message-ID"].encode() in raw and b"colt-2026-11.csv" in raw


def test_wrong_password_is_refused(dovecot_server: DovecotServer) -> None:
    imap = imaplib.IMAP4(dovecot_server.host, dovecot_server.imap_port, timeout=10)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            imap.login(dovecot_server.username, dovecot_server.password + "x")
    finally:
        imap.shutdown()


def test_certificate_of_another_ca_is_not_trusted(dovecot_server: DovecotServer) -> None:
    """The client trusts the fixture's certificate through ca_file only: the system store does not know it."""
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(dovecot_server.host, dovecot_server.imaps_port, ssl_context=ssl.create_default_context(),
                          timeout=10)


def test_repr_and_settings_keep_the_password_out(dovecot_server: DovecotServer) -> None:
    settings = dovecot_server.imap_settings(security="ssl")
    assert dovecot_server.password not in repr(dovecot_server)
    assert dovecot_server.password not in repr(settings) and dovecot_server.password not in str(settings.model_dump())
    assert settings.password.get_secret_value() == dovecot_server.password
    assert settings.port == dovecot_server.imaps_port and settings.ca_file == dovecot_server.ca_file


@pytest.mark.skipif(not ROOT, reason="the account switch happens only when started by root")
def test_runs_as_the_unprivileged_account_in_a_private_folder(dovecot_server: DovecotServer) -> None:
    info = dovecot_server.work_dir.stat()
    assert dovecot_server.account.name == "dovecot" and dovecot_server.account.uid != 0
    assert info.st_uid == dovecot_server.account.uid and stat.S_IMODE(info.st_mode) == 0o700
    status = Path(f"/proc/{dovecot_server.pid}/status").read_text()
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert set(uid_line.split()[1:]) == {str(dovecot_server.account.uid)}
    assert stat.S_IMODE((dovecot_server.work_dir / "passwd").stat().st_mode) == 0o600


def test_restart_keeps_the_mail(tmp_path: Path) -> None:
    server = DovecotServer(password="kept-pw-1")
    try:
        server.start()
        server.deliver(_message("before restart"))
        server.restart()
        with server.connect() as imap:
            imap.select("INBOX")
            assert len(imap.uid("SEARCH", None, "ALL")[1][0].split()) == 1
    finally:
        server.cleanup()
    assert not server.work_dir.exists()


def test_ssha512_salts_each_hash() -> None:
    assert ssha512("pw") != ssha512("pw") and ssha512("pw").startswith("{SSHA512}")
