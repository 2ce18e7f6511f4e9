"""A small client for the InfluxDB v1 HTTP API: ``/ping``, ``/write`` (line protocol) and ``/query`` (InfluxQL).

Works with InfluxDB 1.x and with the v1-compatible API of 2.x (DBRP mapping + token) and 3.x.
Error contract of :meth:`InfluxClient.write` (what the writer's retry/drop policy relies on):

* connection refused/reset, timeout, HTTP 5xx → :class:`~linewatch.errors.InfluxUnavailable` (retry later);
* HTTP 408, 429 (rate limited) → ``InfluxUnavailable`` as well;
* HTTP 401/403 → :class:`~linewatch.errors.InfluxAuthFailed`, HTTP 404 on write (database not found) →
  :class:`~linewatch.errors.InfluxDatabaseNotFound`: both are ``InfluxSetupError``, a subclass of
  ``InfluxRejected``; the data is fine, so the writer keeps such batches in the spool instead of dropping them;
* other HTTP 4xx → :class:`~linewatch.errors.InfluxRejected` carrying the server's error text (a retry cannot help).
  InfluxDB 1.x answers a *partial* write (bad line, field type conflict) with 400 after writing the good points of
  the batch, so a rejected batch may be partly stored: the writer drops it and does not resend it.
"""

from __future__ import annotations

import gzip as gziplib
import logging
from collections.abc import Iterator
from typing import Any, Self

import pandas as pd
import requests

from linewatch.errors import (
    InfluxAuthFailed,
    InfluxDatabaseNotFound,
    InfluxQueryError,
    InfluxRejected,
    InfluxUnavailable,
)
from linewatch.influx.settings import InfluxSettings

log = logging.getLogger(__name__)

_EPOCH_UNITS = {"ns": "ns", "n": "ns", "u": "us", "us": "us", "ms": "ms", "s": "s"}
# Too Many Requests (2.x/Cloud rate limit) and Request Timeout: the batch is fine, try again later.
_RETRYABLE_4XX = (408, 429)
_PRECISIONS = ("ns", "n", "u", "us", "ms", "s", "m", "h")


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip() or response.reason
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    if isinstance(body, dict) and body.get("message"):  # 2.x style
        return str(body["message"])
    return response.text.strip()


class InfluxClient:
    """Talks to one InfluxDB database over the v1 HTTP API. Thread-safe as far as ``requests.Session`` is."""

    def __init__(self, settings: InfluxSettings, *, session: requests.Session | None = None):
        self.settings = settings
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()
        if settings.token is not None:
            self._session.headers["Authorization"] = f"Token {settings.token.get_secret_value()}"
        elif settings.username is not None:
            password = settings.password.get_secret_value() if settings.password is not None else ""
            self._session.auth = (settings.username, password)
        if settings.ca_file is not None:
            self._verify: bool | str = str(settings.ca_file)
        else:
            self._verify = settings.verify_tls

    def __repr__(self) -> str:
        return f"InfluxClient(url={self.settings.url!r}, database={self.settings.database!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.settings.url}{path}"
        try:
            response = self._session.request(
                method, url, timeout=self.settings.timeout_s, verify=self._verify, **kwargs
            )
        except requests.Timeout as exc:
            raise InfluxUnavailable(f"{method} {url}: timed out after {self.settings.timeout_s} s") from exc
        except requests.RequestException as exc:
            raise InfluxUnavailable(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        status = response.status_code
        if status >= 500 or status in _RETRYABLE_4XX:
            raise InfluxUnavailable(f"{method} {url}: HTTP {status}: {_error_text(response)}")
        if status in (401, 403):
            raise InfluxAuthFailed(f"{method} {url}: HTTP {status}: {_error_text(response)}")
        return response

    # -- API -----------------------------------------------------------------------------------------------------

    def ping(self) -> str:
        """Check that InfluxDB answers; return its version (``X-Influxdb-Version`` header, ``""`` if absent)."""
        response = self._request("GET", "/ping")
        if response.status_code >= 400:
            raise InfluxRejected(f"GET /ping: HTTP {response.status_code}: {_error_text(response)}")
        return response.headers.get("X-Influxdb-Version", "")

    def ensure_database(self) -> None:
        """``CREATE DATABASE`` (idempotent) when ``settings.create_database``; 2.x/3.x may refuse: then log it."""
        if not self.settings.create_database:
            return
        name = self.settings.database.replace("\\", "\\\\").replace('"', '\\"')
        try:
            self.query(f'CREATE DATABASE "{name}"', epoch=None, database="")
        except (InfluxQueryError, InfluxRejected) as exc:
            log.warning(
                "could not create database %r (%s); on InfluxDB 2.x/3.x create the bucket/database and its "
                "DBRP mapping yourself, or set create_database: false",
                self.settings.database,
                exc,
            )

    def write(self, body: bytes, *, precision: str = "ns") -> None:
        """Write one batch of line protocol. Raises ``InfluxUnavailable`` (retry) or ``InfluxRejected`` (drop)."""
        if precision not in _PRECISIONS:
            raise ValueError(f"precision must be one of {_PRECISIONS}, got {precision!r}")
        if not body:
            return
        params = {"db": self.settings.database, "precision": precision}
        if self.settings.retention_policy:
            params["rp"] = self.settings.retention_policy
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        data = body
        if self.settings.gzip:
            data = gziplib.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        response = self._request("POST", "/write", params=params, data=data, headers=headers)
        if response.status_code == 404:
            raise InfluxDatabaseNotFound(
                f"write to {self.settings.database!r}: HTTP 404: {_error_text(response)}"
                " (create the database, or the bucket and its DBRP mapping on 2.x)"
            )
        if response.status_code >= 400:
            raise InfluxRejected(
                f"write to {self.settings.database!r} rejected: HTTP {response.status_code}: "
                f"{_error_text(response)}"
            )

    def _statements(self, q: str, *, epoch: str | None, database: str | None) -> list[dict[str, Any]]:
        data: dict[str, str] = {"q": q}
        db = self.settings.database if database is None else database
        if db:
            data["db"] = db
        if self.settings.retention_policy and database is None:
            data["rp"] = self.settings.retention_policy
        if epoch is not None:
            if epoch not in _EPOCH_UNITS and epoch not in ("m", "h"):
                raise ValueError(f"epoch must be one of ns, u, ms, s, m, h or None, got {epoch!r}")
            data["epoch"] = epoch
        response = self._request("POST", "/query", data=data)
        try:
            body = response.json()
        except ValueError as exc:
            if response.status_code >= 400:
                raise InfluxRejected(f"query: HTTP {response.status_code}: {_error_text(response)}") from exc
            raise InfluxQueryError(f"query {q!r}: answer is not JSON: {response.text[:200]!r}") from exc
        if isinstance(body, dict) and body.get("error"):
            raise InfluxQueryError(f"query {q!r}: {body['error']}")
        if response.status_code >= 400:
            raise InfluxRejected(f"query: HTTP {response.status_code}: {_error_text(response)}")
        results = body.get("results", [])
        for result in results:
            if result.get("error"):
                raise InfluxQueryError(
                    f"query {q!r}: statement {result.get('statement_id')}: {result['error']}"
                )
        return results

    def query(self, q: str, *, epoch: str | None = "s", database: str | None = None) -> list[dict[str, Any]]:
        """Run InfluxQL (one or more ``;``-separated statements) and return every series, flattened.

        Each series is ``{"name", "tags", "columns", "values"}`` (``tags`` is ``{}`` without GROUP BY).
        ``epoch`` sets the unit of returned times (``None``: RFC 3339 strings). ``database`` overrides the
        settings' database (``""``: none, for server-level statements). Raises ``InfluxQueryError``.
        """
        return list(self._series(self._statements(q, epoch=epoch, database=database)))

    @staticmethod
    def _series(results: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for result in results:
            for series in result.get("series", []) or []:
                yield {
                    "name": series.get("name", ""),
                    "tags": dict(series.get("tags") or {}),
                    "columns": list(series.get("columns", [])),
                    "values": series.get("values", []) or [],
                }

    def query_frame(self, q: str, *, epoch: str | None = "s", database: str | None = None) -> pd.DataFrame:
        """Run InfluxQL and return one row per value.

        Columns: ``time`` (UTC ``datetime64`` when ``epoch`` is given), then the GROUP BY tag keys, then the value
        columns; plus ``_measurement`` (first) when the answer holds more than one measurement.
        """
        series_list = self.query(q, epoch=epoch, database=database)
        if not series_list:
            return pd.DataFrame()
        names = {s["name"] for s in series_list}
        tag_keys: list[str] = []
        value_columns: list[str] = []
        for s in series_list:
            for key in s["tags"]:
                if key not in tag_keys:
                    tag_keys.append(key)
            for column in s["columns"]:
                if column not in value_columns:
                    value_columns.append(column)
        frames = []
        for s in series_list:
            frame = pd.DataFrame(s["values"], columns=s["columns"])
            for key in tag_keys:
                frame[key] = s["tags"].get(key)
            if len(names) > 1:
                frame["_measurement"] = s["name"]
            frames.append(frame)
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        values_only = [c for c in value_columns if c not in tag_keys]
        ordered = (["_measurement"] if len(names) > 1 else []) + [c for c in values_only if c == "time"]
        ordered += tag_keys + [c for c in values_only if c != "time"]
        frame = frame[ordered]
        if epoch is not None and "time" in frame.columns:
            frame["time"] = pd.to_datetime(frame["time"], unit=_EPOCH_UNITS.get(epoch, epoch), utc=True)
        return frame

    def close(self) -> None:
        """Release the HTTP connections (only of a session this client created)."""
        if self._own_session:
            self._session.close()
