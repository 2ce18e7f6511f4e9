"""What the demo (``make run``, ``web/demo_finance.py``) needs of the intake: a private mailbox with one carrier
email in it, and the settings that point the application at it.

The drop folder needs nothing of its own: ``intake.folder`` names it and :func:`web.intake.collect.collect_folder`
runs without the worker. Mind that processed files are moved to ``imported/``/``rejected/`` (``move=False`` keeps
them): point the folder at a copy, not at ``config/demo-invoices`` that the ETL reads.
"""

from __future__ import annotations

import mimetypes
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from linewatch.servers.dovecot import DovecotServer
from linewatch.settings import ImapSettings


def start_demo_mailbox(*, username: str = "invoices") -> DovecotServer:
    """A dovecot on free loopback ports, its mail store in a private temporary folder (removed at exit)."""
    return DovecotServer(username=username).start()


def invoice_email(path: Path, *, sender: str, subject: str | None = None, to: str = "invoices@linewatch.example",
                  text: str = "Please find our invoice attached.") -> EmailMessage:
    """A carrier's email with the invoice file ``path`` attached (a new Message-ID)."""
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, to
    msg["Subject"] = subject or f"Invoice {path.stem}"
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "carrier.example")
    msg.set_content(text)
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    maintype, subtype = mime.split("/", 1)
    msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return msg


def deliver_invoice_email(server: DovecotServer, path: Path, *, sender: str, subject: str | None = None,
                          mailbox: str = "INBOX") -> str:
    """Put a carrier's email carrying ``path`` into the mailbox (IMAP APPEND); returns its Message-ID."""
    msg = invoice_email(path, sender=sender, subject=subject)
    server.deliver(msg, mailbox=mailbox)
    return str(msg["Message-ID"])


def imap_settings(server: DovecotServer, *, mailbox: str = "INBOX") -> ImapSettings:
    """``intake.imap`` for ``server`` (IMAPS, its certificate as the CA)."""
    return server.imap_settings(security="ssl", mailbox=mailbox)


def imap_env(server: DovecotServer, *, mailbox: str = "INBOX") -> dict[str, str]:
    """The same as ``LINEWATCH_INTAKE__IMAP__*`` variables, for the demo's gunicorn and worker processes (the
    password included: give it to the child's environment only, never print it)."""
    prefix = "LINEWATCH_INTAKE__IMAP__"
    return {f"{prefix}HOST": server.host, f"{prefix}PORT": str(server.imaps_port), f"{prefix}SECURITY": "ssl",
            f"{prefix}USERNAME": server.username, f"{prefix}PASSWORD": server.password,
            f"{prefix}MAILBOX": mailbox, f"{prefix}CA_FILE": str(server.ca_file)}  # fmt: skip
