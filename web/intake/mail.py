"""An email as the intake reads it (pure): its identity, sender, subject, date and attached files."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import PurePosixPath

MAX_FILENAME_CHARS = 200


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str  # the Message-ID header, or "sha256:<hex>" of the bytes when there is none
    sender: str  # the From address
    subject: str
    date: dt.datetime | None
    attachments: tuple[Attachment, ...]


def safe_filename(name: str, *, fallback: str) -> str:
    """A file name without folders, control characters or a leading dot, at most 200 characters."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(c for c in base if c.isprintable() and c not in '/\0').strip().lstrip(".")
    if not base:
        return fallback
    if len(base) > MAX_FILENAME_CHARS:
        suffix = PurePosixPath(base).suffix[:16]
        base = base[: MAX_FILENAME_CHARS - len(suffix)] + suffix
    return base


def message_identity(message: EmailMessage, raw: bytes) -> str:
    header = " ".join(str(message.get("Message-ID", "") or "").split())
    if header:
        return header[:255]
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def parse_message(raw: bytes) -> ParsedMessage:
    """The parts of ``raw`` (RFC 5322 bytes) the intake needs; every part with a file name is an attachment."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    addresses = getaddresses([str(message.get("From", "") or "")])
    sender = addresses[0][1] if addresses else ""
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message.get("Date") else None
    except (TypeError, ValueError):
        date = None
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    attachments = []
    for i, part in enumerate(message.walk()):
        if part.is_multipart():
            continue
        name = part.get_filename()
        if not name and part.get_content_disposition() != "attachment":
            continue  # the body
        data = part.get_payload(decode=True) or b""
        attachments.append(Attachment(safe_filename(name or "", fallback=f"attachment-{i}"), data))
    return ParsedMessage(message_id=message_identity(message, raw), sender=sender[:320],
                         subject=" ".join(str(message.get("Subject", "") or "").split())[:300], date=date,
                         attachments=tuple(attachments))
