"""Receivers: email over SMTP (aiosmtplib: STARTTLS or implicit TLS, AUTH), Slack incoming webhooks and plain
HTTP webhooks (requests).

A sender delivers one outbox payload or raises :class:`~linewatch.errors.DeliveryError`; the outbox decides about
retries. Senders never log secrets (the SMTP password, the Slack webhook URL, which is itself a credential, the
webhook's bearer token). The email and Slack senders also send a prepared plain message (``send_prepared``,
``send_text``): the management application's outbox (web/notify) uses them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
from collections.abc import Mapping, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiosmtplib
import requests

from alerting.config import EmailReceiver, Receiver, SlackReceiver, WebhookReceiver
from alerting.render import ENGLISH, Locale, html_body, slack_message, subject_line, text_body
from linewatch.choices import SmtpTls
from linewatch.errors import DeliveryError


class FilePart(Protocol):
    """A file to attach (``web.notify.outbox.Attachment``): sent as a base64 MIME part, byte for byte."""

    filename: str
    content_type: str
    data: bytes


class Sender(Protocol):
    name: str

    def send(self, payload: Mapping[str, Any], *, message_id: str) -> None:
        """Deliver one notification or raise DeliveryError."""


class EmailSender:
    def __init__(self, name: str, config: EmailReceiver, *, locale: Locale = ENGLISH):
        self.name = name
        self.config = config
        self.locale = locale  # applied when the message is built from the outbox payload, at each delivery

    def build(self, payload: Mapping[str, Any], *, message_id: str) -> EmailMessage:
        msg = self.prepare(subject=subject_line(payload, self.config.subject_prefix, locale=self.locale),
                           text=text_body(payload, locale=self.locale), html=html_body(payload, locale=self.locale),
                           to=self.config.to, language=self.locale.language.value, message_id=message_id)
        msg["X-Linewatch-Group"] = str(payload.get("group_key", ""))[:200]
        return msg

    def prepare(self, *, subject: str, text: str, html: str, to: Sequence[str | Address], language: str,
                message_id: str, attachments: Sequence[FilePart] = ()) -> EmailMessage:
        """A message with this receiver's From; ``to`` are addresses or ``Address(display_name, addr_spec=…)``;
        each attachment a MIME part after the text (and HTML) body."""
        msg = EmailMessage()
        msg["Subject"] = subject  # RFC 2047 if needed
        msg["From"] = self.config.from_address
        msg["To"] = to if to and isinstance(to[0], Address) else ", ".join(str(a) for a in to)
        msg["Date"] = formatdate(localtime=False)
        # Stable per outbox message: a resend after a crash between "sent" and "marked delivered" is recognisable.
        domain = self.config.from_address.rpartition("@")[2] or socket.gethostname()
        msg["Message-ID"] = f"<linewatch.{message_id}@{domain}>"
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        for a in attachments:  # multipart/mixed: the body first, then the files (names RFC 2231-encoded if needed)
            maintype, _, subtype = a.content_type.partition("/")
            msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename)
        msg["Content-Language"] = language  # last: set_content drops Content-* headers, add_attachment moves them
        return msg

    def _tls_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)
        if not self.config.verify_tls:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    async def _send(self, msg: EmailMessage) -> None:
        c = self.config
        tls = c.tls
        await aiosmtplib.send(
            msg,
            hostname=c.host,
            port=c.effective_port,
            username=c.username,
            password=c.password.get_secret_value() if c.password is not None else None,
            use_tls=tls is SmtpTls.IMPLICIT,
            start_tls=tls is SmtpTls.STARTTLS,
            tls_context=self._tls_context() if tls is not SmtpTls.NONE else None,
            timeout=c.timeout_s,
        )

    def send(self, payload: Mapping[str, Any], *, message_id: str) -> None:
        self.deliver(self.build(payload, message_id=message_id))

    def send_prepared(self, *, subject: str, text: str, html: str = "", to: Sequence[str | Address],
                      language: str, message_id: str, attachments: Sequence[FilePart] = ()) -> None:
        """Send a message rendered elsewhere to ``to`` through this receiver's SMTP server, or raise DeliveryError."""
        self.deliver(self.prepare(subject=subject, text=text, html=html, to=to, language=language,
                                  message_id=message_id, attachments=attachments))

    def deliver(self, msg: EmailMessage) -> None:
        where = f"smtp {self.config.host}:{self.config.effective_port}"
        try:
            asyncio.run(self._send(msg))
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(self.name, f"{where}: authentication failed ({exc.code})", permanent=True) from None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(r.recipient for r in exc.recipients)
            raise DeliveryError(self.name, f"{where}: recipients refused: {refused}", permanent=True) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(self.name, f"{where}: server answered {exc.code} {exc.message}",
                                permanent=500 <= exc.code < 600) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise DeliveryError(self.name, f"{where}: {type(exc).__name__}: {exc}") from None


def _retry_after_s(value: str | None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds, or an HTTP date (RFC 9110); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class SlackSender:
    def __init__(self, name: str, config: SlackReceiver, *, session: requests.Session | None = None,
                 locale: Locale = ENGLISH):
        self.name = name
        self.config = config
        self.locale = locale
        self._session = session or requests.Session()

    def send(self, payload: Mapping[str, Any], *, message_id: str) -> None:
        self._post(slack_message(payload, channel=self.config.channel, username=self.config.username,
                                 locale=self.locale))

    def send_text(self, text: str, *, message_id: str) -> None:
        """Post a plain text message (Slack's mrkdwn: the caller escapes what must not be formatted)."""
        body: dict[str, Any] = {"text": text}
        if self.config.channel:
            body["channel"] = self.config.channel
        if self.config.username:
            body["username"] = self.config.username
        self._post(body)

    def _post(self, body: Mapping[str, Any]) -> None:
        try:
            response = self._session.post(self.config.webhook_url.get_secret_value(), json=body,
                                          timeout=self.config.timeout_s)
        except requests.RequestException as exc:
            # The exception text contains the URL (a secret): name the error class only.
            raise DeliveryError(self.name, f"slack webhook: {type(exc).__name__}") from None
        status = response.status_code
        if status == 200:
            return
        reason = response.text.strip()[:200]
        if status == 429:
            raise DeliveryError(self.name, f"slack webhook: HTTP 429 rate limited ({reason})",
                                retry_after_s=_retry_after_s(response.headers.get("Retry-After")))
        raise DeliveryError(self.name, f"slack webhook: HTTP {status} {reason}", permanent=400 <= status < 500)

    def close(self) -> None:
        self._session.close()


def http_failure(name: str, what: str, response: requests.Response) -> DeliveryError:
    """The DeliveryError of a non-2xx answer: 408 and 429 are retried (after ``Retry-After`` if given), 5xx are
    retried, any other 4xx is permanent (retrying cannot help)."""
    status = response.status_code
    reason = response.text.strip()[:200]
    if status in (408, 429):
        return DeliveryError(name, f"{what}: HTTP {status} ({reason})",
                             retry_after_s=_retry_after_s(response.headers.get("Retry-After")))
    return DeliveryError(name, f"{what}: HTTP {status} {reason}", permanent=400 <= status < 500)


class WebhookSender:
    """POST the outbox payload as JSON with ``Authorization: Bearer <token>`` and ``Idempotency-Key: <message id>``
    (the same id on every attempt: the endpoint recognises a resend). 2xx is delivered."""

    def __init__(self, name: str, config: WebhookReceiver, *, session: requests.Session | None = None):
        self.name = name
        self.config = config
        self._session = session or requests.Session()
        parts = urlsplit(config.url)
        self._where = f"webhook {parts.netloc.rpartition('@')[2]}{parts.path}"  # user:password@ left out

    def send(self, payload: Mapping[str, Any], *, message_id: str) -> None:
        headers = {"Authorization": f"Bearer {self.config.bearer_token.get_secret_value()}",
                   "Idempotency-Key": message_id}
        try:
            response = self._session.post(self.config.url, json=dict(payload), headers=headers,
                                          timeout=self.config.timeout_s)
        except requests.RequestException as exc:
            raise DeliveryError(self.name, f"{self._where}: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise http_failure(self.name, self._where, response)

    def close(self) -> None:
        self._session.close()


def build_senders(receivers: list[Receiver]) -> dict[str, Sender]:
    senders: dict[str, Sender] = {}
    for r in receivers:
        locale = Locale(language=r.language, timezone=r.timezone)
        if r.email is not None:
            senders[r.name] = EmailSender(r.name, r.email, locale=locale)
        elif r.slack is not None:
            senders[r.name] = SlackSender(r.name, r.slack, locale=locale)
        elif r.webhook is not None:
            senders[r.name] = WebhookSender(r.name, r.webhook)
    return senders
