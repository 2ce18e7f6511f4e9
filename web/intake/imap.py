"""The intake mailbox over IMAP (imaplib): unseen messages by UID, each marked processed after it was recorded.

Processed means flagged ``\\Seen`` (it stays in ``mailbox``), or moved to ``processed_mailbox`` when one is set
(``MOVE`` when the server has it, else ``COPY`` + ``\\Deleted`` + ``EXPUNGE``). Which message was imported is the
database's business (Message-ID rows), not the flag's: a message flagged unread again is a duplicate, not a second
import. The password is used for the login only and never appears in an error.
"""

from __future__ import annotations

import imaplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from linewatch.settings import ImapSettings


class ImapError(Exception):
    """The mailbox could not be read; the message names the server and the step, never the password."""


def _where(imap: ImapSettings) -> str:
    return f"IMAP {imap.username}@{imap.host}:{imap.port} ({imap.security})"


def _context(imap: ImapSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(imap.ca_file) if imap.ca_file else None)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailbox:
    """A logged-in, selected mailbox; use :func:`open_mailbox`."""

    def __init__(self, conn: imaplib.IMAP4, settings: ImapSettings):
        self.conn = conn
        self.settings = settings

    def _ok(self, step: str, answer: tuple[str, list]) -> list:
        status, data = answer
        if status != "OK":
            detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")[:200]
            raise ImapError(f"{_where(self.settings)}: {step} failed: {detail}")
        return data

    def unseen_uids(self) -> list[int]:
        data = self._ok("UID SEARCH UNSEEN", self.conn.uid("SEARCH", None, "UNSEEN"))
        return sorted(int(uid) for uid in (data[0] or b"").split())

    def fetch(self, uid: int) -> bytes:
        """The message's bytes, without setting ``\\Seen`` (``BODY.PEEK``)."""
        data = self._ok(f"UID FETCH {uid}", self.conn.uid("FETCH", str(uid), "(BODY.PEEK[])"))
        for item in data:
            if isinstance(item, tuple) and len(item) == 2:
                return bytes(item[1])
        raise ImapError(f"{_where(self.settings)}: UID FETCH {uid} returned no message")

    def mark_processed(self, uid: int) -> None:
        target = self.settings.processed_mailbox
        self._ok(f"UID STORE {uid} +FLAGS (\\Seen)", self.conn.uid("STORE", str(uid), "+FLAGS", "(\\Seen)"))
        if not target:
            return
        self.conn.create(_quote(target))  # NO when it exists: fine
        if "MOVE" in self.conn.capabilities:
            self._ok(f"UID MOVE {uid} to {target}", self.conn.uid("MOVE", str(uid), _quote(target)))
            return
        self._ok(f"UID COPY {uid} to {target}", self.conn.uid("COPY", str(uid), _quote(target)))
        self._ok(f"UID STORE {uid} +FLAGS (\\Deleted)", self.conn.uid("STORE", str(uid), "+FLAGS", "(\\Deleted)"))
        self._ok("EXPUNGE", self.conn.expunge())


@contextmanager
def open_mailbox(imap: ImapSettings) -> Iterator[Mailbox]:
    """Connect (IMAPS, STARTTLS or plain), log in and select ``imap.mailbox``; logged out on leaving."""
    try:
        if imap.security == "ssl":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(imap.host, imap.port, ssl_context=_context(imap),
                                                    timeout=imap.timeout_s)  # fmt: skip
        else:
            conn = imaplib.IMAP4(imap.host, imap.port, timeout=imap.timeout_s)
            if imap.security == "starttls":
                conn.starttls(ssl_context=_context(imap))
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"{_where(imap)}: cannot connect: {type(exc).__name__}: {exc}") from None
    try:
        try:
            conn.login(imap.username, imap.password.get_secret_value())
        except imaplib.IMAP4.error:
            raise ImapError(f"{_where(imap)}: login refused (check intake.imap.username and password)") from None
        mailbox = Mailbox(conn, imap)
        mailbox._ok(f"SELECT {imap.mailbox}", conn.select(_quote(imap.mailbox)))
        yield mailbox
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"{_where(imap)}: {type(exc).__name__}: {exc}") from None
    finally:
        try:
            conn.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
