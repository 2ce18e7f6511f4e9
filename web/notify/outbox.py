"""The application's outbox: :func:`enqueue` in the caller's transaction, :func:`deliver_due` from the worker.

``enqueue`` writes one :class:`~web.notify.models.OutboxMessage` in the same database transaction as the caller's
state change, so a committed change always has its message and a rolled-back one has none. ``key`` is unique: a
second ``enqueue`` with the same key writes nothing and returns False, so a retried job never sends twice.

``deliver_due`` (the worker, every 5 s) claims due rows (``select_for_update(skip_locked=True)`` on PostgreSQL and a
conditional update everywhere, so two workers never take the same row), sends them through the alert receivers of
``alerts.yaml`` (``alerting.receivers``), and marks each delivered, or failed with exponential backoff
(``alerts.yaml`` ``delivery:``), or expired ``expire_s`` after it became due. Each recipient is one delivery: a
receiver (its own email addresses or Slack channel), or one email address sent through the SMTP settings and From of
the receiver named by ``web.mail_receiver`` (default: the first email receiver). A retry sends only to the
recipients that failed. Errors are recorded without secrets (the senders never put one in their messages).

A message may carry files (:class:`Attachment`, at most ``MAX_ATTACHMENTS_BYTES`` in all): stored with it
(:class:`~web.notify.models.OutboxAttachment`), sent as MIME parts by email, and named (not sent) on Slack.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from alerting.config import AlertsConfig, DeliverySettings, load_alerts
from alerting.receivers import EmailSender, SlackSender, build_senders
from linewatch.choices import DeliveryStatus, Language
from linewatch.errors import ConfigError, DeliveryError
from web.notify.models import OutboxAttachment, OutboxMessage

log = logging.getLogger(__name__)
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
ATTEMPT_LOG_MAX = 50  # entries kept per message (the newest)
CLAIM_LEASE_S = 300  # a claimed row is not due again for this long (a worker that died mid-send)
MAX_ATTACHMENTS_BYTES = 10 * 1024 * 1024  # per message, all files together (mail servers refuse much more)
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class RecipientKind:
    RECEIVER = "receiver"
    EMAIL = "email"
    USER = "user"


# -- alerts.yaml ---------------------------------------------------------------------------------------------------

_CONFIG_CACHE: dict[tuple[str, int], AlertsConfig] = {}


def alerts_path() -> Path:
    lw = settings.LINEWATCH
    return lw.resolve(lw.alerts_path)


def alerts_config() -> AlertsConfig:
    """``alerts.yaml`` (receivers and delivery settings), reloaded when the file changes; ConfigError if invalid,
    FileNotFoundError if missing."""
    path = alerts_path()
    key = (str(path), path.stat().st_mtime_ns)
    config = _CONFIG_CACHE.get(key)
    if config is None:
        _CONFIG_CACHE.clear()
        config = _CONFIG_CACHE[key] = load_alerts(path)
    return config


def _receivers_or_none() -> AlertsConfig | None:
    try:
        return alerts_config()
    except FileNotFoundError:
        return None


# -- recipients ----------------------------------------------------------------------------------------------------


def user_language(user: Any) -> str:
    """The language a user reads: their own if the account has one (``user.language``), else the app's default."""
    value = getattr(user, "language", None) or settings.LANGUAGE_CODE
    return value if value in set(Language) else Language.EN.value


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to, with the language (and time zone) resolved when the message is queued."""

    kind: str
    receiver_name: str = ""
    address: str = ""
    name: str = ""
    user_id: int | None = None
    language: str = Language.EN.value
    timezone: str = "UTC"

    @classmethod
    def receiver(cls, name: str) -> Recipient:
        """A receiver of ``alerts.yaml`` (email or Slack), in its own language and time zone."""
        config = _receivers_or_none()
        if config is None:  # no alerts.yaml here (a test, a fresh checkout): delivery will say so
            log.warning("alerts.yaml not found at %s: receiver %s queued in English, UTC", alerts_path(), name)
            return cls(RecipientKind.RECEIVER, receiver_name=name)
        r = config.receivers_by_name.get(name)
        if r is None:
            raise ValueError(f"receiver: unknown receiver {name!r} (alerts.yaml has: "
                             f"{', '.join(sorted(config.receivers_by_name))})")
        if r.webhook is not None:
            raise ValueError(f"receiver: {name!r} is a webhook receiver (it takes alert payloads, not messages)")
        return cls(RecipientKind.RECEIVER, receiver_name=name, language=r.language.value, timezone=r.timezone)

    @classmethod
    def email(cls, address: str, *, name: str = "", language: str = Language.EN.value) -> Recipient:
        """An email address (a carrier's NOC), sent through the SMTP settings of ``web.mail_receiver``."""
        if not _ADDRESS.match(address or ""):
            raise ValueError(f"email: {address!r} is not an email address")
        return cls(RecipientKind.EMAIL, address=address, name=name, language=Language(language).value)

    @classmethod
    def user(cls, user: Any) -> Recipient:
        """A user of the application: their email address and their language."""
        if not user.email or not _ADDRESS.match(user.email):
            raise ValueError(f"user: {user.get_username()!r} has no email address")
        return cls(RecipientKind.USER, address=user.email, name=user.get_full_name(), user_id=user.pk,
                   language=user_language(user))

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recipient:
        return cls(**data)

    def __str__(self) -> str:
        if self.kind == RecipientKind.RECEIVER:
            return self.receiver_name
        return f"{self.name} <{self.address}>" if self.name else self.address


# -- attachments ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: ``filename`` (no folder), ``content_type`` (``type/subtype``) and the bytes."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        name = self.filename
        if not name.strip() or len(name) > 200 or any(c in name for c in "/\\\0\r\n"):
            raise ValueError(f"attachments: file name {name!r}: give 1 to 200 characters, no folder or line break")
        if not _CONTENT_TYPE.match(self.content_type):
            raise ValueError(f"attachments: {name}: content type {self.content_type!r} is not type/subtype")
        if not isinstance(self.data, bytes):
            raise ValueError(f"attachments: {name}: data must be bytes, not {type(self.data).__name__}")  # noqa: TRY004


def _check_attachments(attachments: Sequence[Attachment]) -> None:
    total = sum(len(a.data) for a in attachments)
    if total > MAX_ATTACHMENTS_BYTES:
        raise ValueError(f"attachments: {total / 2**20:.1f} MiB in all, at most {MAX_ATTACHMENTS_BYTES // 2**20} MiB "
                         "per message")
    names = [a.filename for a in attachments]
    if len(set(names)) != len(names):
        raise ValueError(f"attachments: the same file name twice ({', '.join(sorted(names))})")


def attachments_of(msg: OutboxMessage) -> list[Attachment]:
    """The files stored with a message, in the order given to :func:`enqueue`."""
    return [Attachment(a.filename, a.content_type, bytes(a.data)) for a in msg.attachments.order_by("pk")]


# -- enqueue -------------------------------------------------------------------------------------------------------


def enqueue(key: str, *, to: Sequence[Recipient], subject: str, text: str, html: str = "",
            language: str = "en", about: models.Model | None = None, send_after: dt.datetime | None = None,
            attachments: Sequence[Attachment] = ()) -> bool:
    """Queue a message (with its files) in the current transaction; False (and nothing queued) if ``key`` was
    queued before."""
    if not key or len(key) > 200:
        raise ValueError("key: give 1 to 200 characters")
    if not to:
        raise ValueError("to: give at least one recipient")
    if not subject.strip():
        raise ValueError("subject: empty")
    if send_after is not None and timezone.is_naive(send_after):
        raise ValueError("send_after: give an aware datetime")
    _check_attachments(attachments)
    when = send_after or timezone.now()
    about_fields: dict[str, Any] = {}
    if about is not None:
        about_fields = {"about_type": ContentType.objects.get_for_model(about), "about_id": str(about.pk)}
    with transaction.atomic():  # a savepoint: a duplicate key must not break the caller's transaction
        if OutboxMessage.objects.filter(key=key).exists():
            return False
        try:
            with transaction.atomic():
                msg = OutboxMessage.objects.create(
                    key=key, recipients=[r.as_json() for r in to], subject=" ".join(subject.split())[:300],
                    text=text, html=html, language=Language(language).value, send_after=when, next_attempt=when,
                    **about_fields)
                for a in attachments:  # one by one (not bulk_create): each is change-logged
                    OutboxAttachment.objects.create(message=msg, filename=a.filename, content_type=a.content_type,
                                                    size=len(a.data), sha256=hashlib.sha256(a.data).hexdigest(),
                                                    data=a.data)
        except IntegrityError:  # queued by a concurrent transaction meanwhile
            return False
    return True


def with_attachment_names(qs: models.QuerySet[OutboxMessage]) -> models.QuerySet[OutboxMessage]:
    """``qs`` with each message's attachments prefetched without their bytes (for lists: names and sizes)."""
    return qs.prefetch_related(models.Prefetch("attachments", queryset=OutboxAttachment.objects.defer("data")))


def messages_about(obj: models.Model) -> models.QuerySet[OutboxMessage]:
    return OutboxMessage.objects.filter(about_type=ContentType.objects.get_for_model(obj), about_id=str(obj.pk))


# -- delivery ------------------------------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)


def backoff_s(delivery: DeliverySettings, attempts: int) -> float:
    return min(delivery.backoff_initial_s * 2 ** max(0, attempts - 1), delivery.backoff_max_s)


def _claim(now: dt.datetime, limit: int) -> list[OutboxMessage]:
    """Due rows, taken by this worker: their next attempt moves a lease ahead, so nobody else takes them."""
    due = OutboxMessage.objects.filter(status=DeliveryStatus.PENDING, next_attempt__lte=now).order_by(
        "next_attempt", "pk")
    lease = now + dt.timedelta(seconds=CLAIM_LEASE_S)
    claimed: list[OutboxMessage] = []
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for msg in list(due[:limit]):
            # The conditional update is the claim on databases without row locks (SQLite serializes writers).
            if OutboxMessage.objects.filter(pk=msg.pk, status=DeliveryStatus.PENDING,
                                            next_attempt=msg.next_attempt).update(next_attempt=lease):
                claimed.append(msg)
    return claimed


class _Senders:
    def __init__(self, config: AlertsConfig, mail_receiver: str | None):
        self.by_name = build_senders(config.receivers)
        name = mail_receiver or next((r.name for r in config.receivers if r.email is not None), None)
        sender = self.by_name.get(name) if name else None
        self.mail: EmailSender | None = sender if isinstance(sender, EmailSender) else None
        self.mail_name = name or "(none)"
        self.mail_problem = (f"web.mail_receiver: {mail_receiver!r} is not an email receiver of alerts.yaml"
                             if mail_receiver else "alerts.yaml has no email receiver to send mail through")

    def close(self) -> None:
        for sender in self.by_name.values():
            close = getattr(sender, "close", None)
            if close is not None:
                close()

    def send(self, msg: OutboxMessage, recipient: Recipient, *, message_id: str,
             attachments: Sequence[Attachment] = ()) -> None:
        if recipient.kind == RecipientKind.RECEIVER:
            sender = self.by_name.get(recipient.receiver_name)
            if isinstance(sender, EmailSender):
                sender.send_prepared(subject=msg.subject, text=msg.text, html=msg.html, to=sender.config.to,
                                     language=msg.language, message_id=message_id, attachments=attachments)
            elif isinstance(sender, SlackSender):
                files = "".join(f"\n📎 {a.filename}" for a in attachments)  # names only: a webhook takes no files
                sender.send_text(f"*{msg.subject}*\n{msg.text}{files}", message_id=message_id)
            else:
                raise DeliveryError(recipient.receiver_name, "no email or Slack receiver of that name in alerts.yaml",
                                    permanent=True)
            return
        if self.mail is None:
            raise DeliveryError(self.mail_name, self.mail_problem, permanent=True)
        to = Address(display_name=recipient.name, addr_spec=recipient.address)
        self.mail.send_prepared(subject=msg.subject, text=msg.text, html=msg.html, to=[to],
                                language=msg.language, message_id=message_id, attachments=attachments)


def deliver_due(now: dt.datetime | None = None, *, limit: int | None = None) -> DeliveryReport:
    """Send every due message (at most ``limit``, default ``delivery.max_per_dispatch``) once."""
    report = DeliveryReport()
    try:
        config = alerts_config()
    except (FileNotFoundError, ConfigError) as exc:
        log.error("outbox: cannot load %s, nothing sent: %s", alerts_path(), exc)
        return report
    now = now or timezone.now()
    delivery = config.delivery
    senders = _Senders(config, settings.LINEWATCH.web.mail_receiver)
    try:
        for msg in _claim(now, limit or delivery.max_per_dispatch):
            _deliver_one(msg, now=now, delivery=delivery, senders=senders, report=report)
    finally:
        senders.close()
    return report


def _deliver_one(msg: OutboxMessage, *, now: dt.datetime, delivery: DeliverySettings, senders: _Senders,
                 report: DeliveryReport) -> None:
    if (now - msg.send_after).total_seconds() >= delivery.expire_s:
        log.error("outbox message %d (%s) EXPIRED undelivered after %d attempt(s); last error: %s", msg.pk, msg.key,
                  msg.attempts, msg.last_error or "-")
        OutboxMessage.objects.filter(pk=msg.pk).update(status=DeliveryStatus.EXPIRED, expired_at=now,
                                                       next_attempt=now)
        report.expired.append(msg.pk)
        return
    delivered = set(msg.delivered_to)
    attachments = attachments_of(msg)
    entries: list[dict[str, Any]] = []
    errors: list[DeliveryError] = []
    for i, data in enumerate(msg.recipients):
        if i in delivered:
            continue
        recipient = Recipient.from_json(data)
        try:
            senders.send(msg, recipient, message_id=f"app.{msg.pk}.{i}", attachments=attachments)
        except DeliveryError as exc:
            errors.append(exc)
            entries.append({"at": now.isoformat(), "recipient": str(recipient), "error": str(exc)})
            continue
        delivered.add(i)
        entries.append({"at": now.isoformat(), "recipient": str(recipient), "error": ""})
    attempts = msg.attempts + 1
    update: dict[str, Any] = {"attempts": attempts, "delivered_to": sorted(delivered),
                              "attempt_log": (msg.attempt_log + entries)[-ATTEMPT_LOG_MAX:]}
    if not errors:
        update |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "next_attempt": now, "last_error": ""}
        report.delivered.append(msg.pk)
        log.info("outbox message %d (%s) delivered", msg.pk, msg.key)
    else:
        waits = [e.retry_after_s for e in errors if e.retry_after_s is not None]
        delay = max(waits) if waits else backoff_s(delivery, attempts)
        last_error = "; ".join(str(e) for e in errors)[:2000]
        update |= {"next_attempt": now + dt.timedelta(seconds=delay), "last_error": last_error}
        level = logging.ERROR if any(e.permanent for e in errors) else logging.WARNING
        log.log(level, "outbox message %d (%s): attempt %d failed, retry in %.0f s: %s", msg.pk, msg.key, attempts,
                delay, last_error)
        report.failed.append((msg.pk, last_error))
    OutboxMessage.objects.filter(pk=msg.pk).update(**update)


def retry(msg: OutboxMessage) -> None:
    """Queue an expired message again (an admin's retry): due now, its expiry counted from now (change-logged)."""
    now = timezone.now()
    msg.status = DeliveryStatus.PENDING
    msg.send_after = msg.next_attempt = now
    msg.expired_at = None
    msg.save()
