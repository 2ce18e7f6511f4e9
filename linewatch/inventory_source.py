"""Where the consumers get their inventory: lines.yaml, or the management application's inventory endpoint.

``inventory.source: files`` (the default) reads ``inventory_path``; ``http`` fetches ``inventory.url`` with the
bearer ``inventory.token`` (``GET /api/inventory.json`` of ``web/``, docs/web.md). Either way :meth:`current` is
called once per cycle (the collector, the alert evaluator) or once per run (billing ETL, flows) and returns a
validated :class:`~linewatch.inventory.Inventory`:

* a change (a new file, a new document: the ETag differs) is validated by the same rules as lines.yaml and used
  from this call on, without a restart;
* nothing new costs little: the file's size and mtime are compared, the URL is asked with ``If-None-Match``
  (``304 Not Modified``, no body);
* a failure (the app down, an error status, an invalid document or file) never stops the consumer: the last good
  copy is kept, the failure logged once (and once more when it recovers), and :attr:`stale_s` says for how long
  the copy has not been confirmed (reported as ``collector_health.inventory_stale_s``, docs/schema.md).

The last good document of the app is kept on disk (``inventory.cache_path``, mode 0600: it holds SNMP secrets)
so a collector restarted while the app is down still collects.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

import requests
from pydantic import ValidationError

from linewatch.choices import InventorySource as SourceKind
from linewatch.errors import ConfigError, LinewatchError, Problem
from linewatch.fileperms import write_private
from linewatch.inventory import SECTIONS, Inventory, cross_check, load_inventory, member_path
from linewatch.settings import Settings
from linewatch.yamlconf import Located, validation_problems

log = logging.getLogger(__name__)

__all__ = ["InventorySource", "InventoryUnavailable", "inventory_from_document", "load_configured_inventory"]


class InventoryUnavailable(LinewatchError):
    """No inventory at all: the source failed and there is no last good copy."""


def inventory_from_document(data: Any, *, origin: str) -> Inventory:
    """Validate a JSON document of the endpoint as lines.yaml is validated (entries, then cross-entry rules);
    ConfigError names ``origin`` and each entry (``devices[3].snmp.community``)."""
    located = Located(origin, data, {})
    if not isinstance(data, dict):
        raise ConfigError([Problem(origin, None, "", "expected an object with 'devices' and 'lines'")])
    problems = [located.problem((key,), "unknown key") for key in data if key not in SECTIONS]
    parsed: dict[str, list[Any]] = {key: [] for key in SECTIONS}
    for key, model in SECTIONS.items():
        items = data.get(key) or []
        if not isinstance(items, list):
            problems.append(located.problem((key,), "expected a list"))
            continue
        for i, item in enumerate(items):
            try:
                parsed[key].append(model.model_validate(item))
            except ValidationError as exc:
                problems.extend(validation_problems(located, exc, prefix=(key, i)))
    if problems:
        raise ConfigError(problems)
    inv = Inventory(**parsed)
    problems = cross_check(inv, located)
    names = set(inv.devices_by_name)
    problems += [located.problem(member_path(located, i, j, "device"), f"unknown device {m.device!r}")
                 for i, line in enumerate(inv.lines) for j, m in enumerate(line.members) if m.device not in names]
    if problems:
        raise ConfigError(problems)
    return inv


class InventorySource:
    """The inventory of ``settings`` (``inventory.source``), refreshed by each :meth:`current` call."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time,
                 session: requests.Session | None = None):
        self.kind = settings.inventory.source
        self.path = settings.resolve(settings.inventory_path)
        self.url = settings.inventory.url
        self._token = settings.inventory.token
        self.cache_path = settings.resolve(settings.inventory.cache_path)
        self.timeout_s = settings.inventory.timeout_s
        self.clock = clock
        self._session = session
        self._inventory: Inventory | None = None
        self._etag: str | None = None
        self._file_key: tuple[int, int] | None = None
        self._confirmed_s: float | None = None  # when the copy in use was last known to be current
        self._failing: str | None = None  # the failure logged (each kind once)
        self.failures = 0  # consecutive failed refreshes

    @property
    def origin(self) -> str:
        return str(self.path) if self.kind is SourceKind.FILES else str(self.url)

    @property
    def last_failure(self) -> str | None:
        """Why the last refresh failed (None when it succeeded)."""
        return self._failing

    @property
    def stale_s(self) -> float:
        """Seconds since the inventory in use was last confirmed current (0 while the source answers)."""
        if self.failures == 0 or self._confirmed_s is None:
            return 0.0
        return max(0.0, self.clock() - self._confirmed_s)

    def current(self) -> Inventory:
        """The inventory, refreshed from the source; the last good copy when the source fails."""
        error: Exception | None = None
        try:
            self._refresh()
        except (ConfigError, LinewatchError, requests.RequestException, OSError, ValueError) as exc:
            error = exc
            self._failed(exc)
        else:
            if self._failing is not None:
                log.warning("inventory from %s is current again", self.origin)
            self._failing = None
            self.failures = 0
            self._confirmed_s = self.clock()
        if self._inventory is None:
            if isinstance(error, ConfigError):
                raise error  # every located problem, as load_inventory reports them
            raise InventoryUnavailable(f"no inventory from {self.origin}: {self._failing} (and no last good copy)")
        return self._inventory

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        reason = _describe(exc)
        if self._inventory is None and self.kind is SourceKind.HTTP:
            self._load_cache()
        if reason != self._failing and self._inventory is not None:  # without a copy current() raises it
            log.error("inventory from %s: %s; keeping the last good copy", self.origin, reason)
        self._failing = reason

    def _refresh(self) -> None:
        if self.kind is SourceKind.FILES:
            st = self.path.stat()
            key = (st.st_mtime_ns, st.st_size)
            if key != self._file_key or self._inventory is None:
                self._inventory = load_inventory(self.path)
                self._file_key = key
            return
        headers = {"Accept": "application/json"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.get_secret_value()}"
        if self._etag is not None and self._inventory is not None:
            headers["If-None-Match"] = self._etag
        session = self._session or requests
        response = session.get(str(self.url), headers=headers, timeout=self.timeout_s, allow_redirects=False)
        if response.status_code == 304 and self._inventory is not None:
            return
        if response.status_code != 200:
            raise LinewatchError(f"HTTP {response.status_code}")
        data = response.json()
        self._inventory = inventory_from_document(data, origin=str(self.url))
        self._etag = response.headers.get("ETag")
        write_private(self.cache_path, json.dumps({"etag": self._etag, "inventory": data}))

    def _load_cache(self) -> None:
        try:
            cached = json.loads(self.cache_path.read_text())
            self._inventory = inventory_from_document(cached["inventory"], origin=str(self.cache_path))
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError, ConfigError) as exc:
            log.error("inventory cache %s unusable: %s", self.cache_path, _describe(exc))
            return
        self._etag = cached.get("etag")
        self._confirmed_s = self.cache_path.stat().st_mtime  # stale since the copy was written
        log.warning("inventory from the last good copy %s", self.cache_path)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ConfigError):
        first = exc.problems[0] if exc.problems else "invalid"
        more = f" (+{len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        return f"invalid inventory: {first}{more}"
    if isinstance(exc, requests.RequestException):
        return f"request failed: {type(exc).__name__}"  # no URL with a token in it, no headers
    return str(exc) or type(exc).__name__


def load_configured_inventory(settings: Settings) -> Inventory:
    """The inventory at the start of a run (billing ETL, flows): from the configured source, or its last good
    copy; ConfigError (files) or :class:`InventoryUnavailable` (http) when there is none."""
    return InventorySource(settings).current()
