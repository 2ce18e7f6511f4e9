"""URL checks shared by every setting that holds an http(s) URL (InfluxDB, Grafana links)."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["UrlHasUserInfo", "check_http_url", "shown_url"]


class UrlHasUserInfo(ValueError):
    """A URL carries ``user:password@``: credentials belong in their own (secret) settings."""


def shown_url(url: str) -> str:
    """A URL as it may appear in an error message: at most 80 characters, query and fragment left out."""
    return url.split("?", 1)[0].split("#", 1)[0][:80]


def check_http_url(value: str) -> str:
    """``value`` without a trailing ``/`` if it is an http:// or https:// URL with a host and no user name or
    password; else ``ValueError`` saying why, never repeating what stood before an ``@`` (a password)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError("is not a valid URL (check the host and port)") from None
    if "@" in parts.netloc:
        raise UrlHasUserInfo("must not contain a user name or password (user:password@host)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL with a host, got {shown_url(value)!r}")
    return value.rstrip("/")
