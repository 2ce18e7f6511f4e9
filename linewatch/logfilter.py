"""Keep secrets out of log output, including what HTTP and SMTP libraries log at DEBUG (``-vv``).

Two layers, applied by :class:`SecretFilter` to every record a handler emits (``linewatch.cli`` installs it on the
root handlers, so library loggers are covered as well):

1. **Registered secrets.** Every configuration secret (:data:`linewatch.yamlconf.EnvSecretStr`, InfluxDB password
   and token) is registered when it is validated; a registered URL also registers its path-and-query and its
   password, because urllib3 logs a request as ``"POST /services/T0/B0/token HTTP/1.1"`` without the host. Any
   occurrence in any record is replaced by ``<secret>``.
2. **Library loggers** (:data:`LIBRARY_LOGGERS`: urllib3, requests, aiosmtplib, …) know nothing about our
   configuration, so in their records the path and query of every URL and HTTP request line are masked as well,
   except the InfluxDB API endpoints linewatch itself calls (:data:`SAFE_PATHS`). In every record, user:password
   in a URL and credential-like query parameters (``token=``, ``password=``, ``sig=`` …) are masked.

Exception text (tracebacks) goes through the same masking.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit

__all__ = [
    "LIBRARY_LOGGERS",
    "MASK",
    "SAFE_PATHS",
    "SecretFilter",
    "install",
    "mask",
    "register_secret",
]

MASK = "<secret>"
LIBRARY_LOGGERS = ("urllib3", "requests", "aiosmtplib", "aiosmtpd", "mail.log", "httpx", "httpcore")
"""Loggers of libraries that may log URLs we were configured with (webhooks, SMTP, InfluxDB)."""
SAFE_PATHS = frozenset({"/write", "/query", "/ping", "/health", "/api/v2/write", "/api/v2/query"})
"""Request paths shown in library logs: the InfluxDB endpoints, whose paths carry no secret."""
MIN_SECRET_CHARS = 8
"""Shorter values are not registered: masking every "abc" in the logs would hide more than it protects."""

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

_URL = re.compile(r"(?P<base>[A-Za-z][A-Za-z0-9+.-]*://(?:[^/@\s\"'<>]*@)?[^/\s?#\"'<>]+)(?P<rest>[/?#][^\s\"'<>]*)?")
_REQUEST_LINE = re.compile(r"(?P<method>\b[A-Z]{3,10}) (?P<target>/[^\s\"']*) (?P<proto>HTTP/\d(?:\.\d)?)")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s\"'<>]+)@")
_CREDENTIAL_PARAM = re.compile(
    r"(?P<key>[?&;](?:u|p|pass|passwd|password|pwd|token|access_token|api_key|apikey|key|secret|sig|signature"
    r"|auth|authorization)=)[^&;\s\"'<>#]+",
    re.IGNORECASE,
)


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every log record from now on (and, for a URL, its path-and-query and password)."""
    if not value:
        return
    parts = {value}
    if "://" in value:
        try:
            url = urlsplit(value)
        except ValueError:
            url = None
        if url is not None:
            target = url.path + (f"?{url.query}" if url.query else "")
            if len(target) > 1:
                parts.add(target)
            if url.password:
                parts.add(url.password)
    new = {p for p in parts if len(p) >= MIN_SECRET_CHARS} - _secrets
    if not new:
        return
    global _pattern
    with _lock:
        _secrets.update(new)
        # Longest first, so a URL is masked whole rather than leaving its host around a masked path.
        _pattern = re.compile("|".join(re.escape(s) for s in sorted(_secrets, key=len, reverse=True)))


def _mask_target(target: str) -> str:
    if target.partition("?")[0] in SAFE_PATHS:
        return target
    return "/" + MASK


def _mask_url(match: re.Match[str]) -> str:
    rest = match.group("rest")
    return match.group("base") + (_mask_target(rest) if rest else "")


def mask(text: str, *, library: bool = False) -> str:
    """``text`` with registered secrets, URL passwords and credential parameters masked; with ``library``, also
    the path and query of every URL and HTTP request line (except :data:`SAFE_PATHS`)."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    text = _CREDENTIAL_PARAM.sub(lambda m: m.group("key") + MASK, text)
    if library:
        text = _URL.sub(_mask_url, text)
        text = _REQUEST_LINE.sub(lambda m: f"{m.group('method')} {_mask_target(m.group('target'))} "
                                           f"{m.group('proto')}", text)
    return text


def _is_library(name: str) -> bool:
    return any(name == lib or name.startswith(lib + ".") for lib in LIBRARY_LOGGERS)


class SecretFilter(logging.Filter):
    """Rewrites each record's message (and exception text) with :func:`mask`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        library = _is_library(record.name)
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a broken %-format: logging reports it as usual
            return True
        masked = mask(message, library=library)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text, library=library)
        if record.stack_info:
            record.stack_info = mask(record.stack_info, library=library)
        return True


def install(logger: logging.Logger | None = None) -> SecretFilter:
    """Add one :class:`SecretFilter` to every handler of ``logger`` (default: the root logger); idempotent."""
    logger = logger or logging.getLogger()
    secret_filter = SecretFilter()
    for handler in logger.handlers:
        if not any(isinstance(f, SecretFilter) for f in handler.filters):
            handler.addFilter(secret_filter)
    return secret_filter
