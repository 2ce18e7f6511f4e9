"""Live concurrency: the PBX's own count of calls in progress, polled every collector cycle (``voice_live``).

Kamailio (``kind: kamailio_jsonrpc``): JSON-RPC 2.0 over HTTP (the ``jsonrpcs`` module behind ``xhttp``) —
``dlg.stats_active`` answers ``{starting, connecting, answering, ongoing, all}`` (``all``: every dialog not yet
ended, ringing ones included: each holds a channel), and ``dlg.profile_get_size [profile, value]`` the dialogs of
one value of a dialog profile (the Kamailio config puts each call in profile ``trunk`` with the trunk's name).

Asterisk has no such HTTP call; its live channels are read over AMI (docs/voice.md) — not polled by linewatch.

A failing PBX (refused, timed out, an error answer, nonsense) never breaks the cycle: its point says ``ok=0``, the
failure is logged once per outage (and the recovery once), the other sources are polled as usual.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from collector.voice.aggregate import LIVE_MEASUREMENT, line_tags
from linewatch.influx import Point
from linewatch.inventory import Line
from linewatch.urls import shown_url
from linewatch.voice.config import LiveSource

log = logging.getLogger(__name__)

STATS_METHOD = "dlg.stats_active"
PROFILE_METHOD = "dlg.profile_get_size"
_DIALOG_STATES = ("starting", "connecting", "answering", "ongoing")


class LiveError(Exception):
    """A live source did not give a usable answer; the message names the source and why."""


@dataclass(frozen=True, slots=True)
class LiveReading:
    """One source's poll: ``active`` calls (None when it failed), per line the trunk counts, the error if any."""

    source: str
    ok: bool
    active: int | None = None
    per_line: dict[str, int] = field(default_factory=dict)
    error: str = ""


def active_of(result: Any) -> int:
    """Calls in progress from a ``dlg.stats_active`` result: ``all``, else the sum of the dialog states."""
    if isinstance(result, Mapping):
        if "all" in result:
            return _count(result["all"], "all")
        states = [result[k] for k in _DIALOG_STATES if k in result]
        if states:
            return sum(_count(v, k) for k, v in zip(_DIALOG_STATES, states))
    raise LiveError(f"dlg.stats_active answered {str(result)[:80]!r}, not the dialog counts")


def profile_size_of(result: Any) -> int:
    """The count from a ``dlg.profile_get_size`` result: a number, ``{"count"|"size": n}`` or ``[n]``."""
    if isinstance(result, list) and len(result) == 1:
        result = result[0]
    if isinstance(result, Mapping):
        for key in ("count", "size", "value"):
            if key in result and not isinstance(result[key], str):
                return _count(result[key], key)
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        return _count(result, "size")
    raise LiveError(f"dlg.profile_get_size answered {str(result)[:80]!r}, not a count")


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != int(value):
        raise LiveError(f"{name} is {str(value)[:40]!r}, not a count of dialogs")
    return int(value)


class JsonRpcClient:
    """A JSON-RPC 2.0 client over HTTP POST (one ``requests`` session per source)."""

    def __init__(self, url: str, *, timeout_s: float, session: requests.Session | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.session = session or requests.Session()
        self._ids = itertools.count(1)

    def call(self, method: str, params: Sequence[Any] | None = None) -> Any:
        request: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": next(self._ids)}
        if params:
            request["params"] = list(params)
        try:
            response = self.session.post(self.url, json=request, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise LiveError(f"{method}: cannot reach {shown_url(self.url)} ({type(exc).__name__})") from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 and not (isinstance(answer, Mapping) and answer.get("error") is not None):
            # Kamailio's jsonrpcs answers an error with its code as the HTTP status and the error in the body
            raise LiveError(f"{method}: HTTP {response.status_code} from {shown_url(self.url)}")
        if answer is None:
            raise LiveError(f"{method}: {shown_url(self.url)} did not answer JSON")
        if not isinstance(answer, Mapping):
            raise LiveError(f"{method}: the answer is not a JSON-RPC object")
        if answer.get("error") is not None:
            error = answer["error"]
            message = error.get("message", error) if isinstance(error, Mapping) else error
            raise LiveError(f"{method}: error {str(message)[:120]}")
        if "result" not in answer:
            raise LiveError(f"{method}: the answer has no result")
        return answer["result"]

    def close(self) -> None:
        self.session.close()


class LivePoller:
    """Polls every live source of voice.yaml; :meth:`poll` returns the readings and :meth:`points` their points."""

    def __init__(self, sources: Sequence[LiveSource], lines: Mapping[str, Line]) -> None:
        self.sources = list(sources)
        self.lines = dict(lines)
        self._clients = {s.name: JsonRpcClient(s.url, timeout_s=s.timeout_s) for s in self.sources}
        self._failing: dict[str, str] = {}

    def poll(self) -> list[LiveReading]:
        return [self._poll(source) for source in self.sources]

    def _poll(self, source: LiveSource) -> LiveReading:
        client = self._clients[source.name]
        try:
            active = active_of(client.call(STATS_METHOD))
            per_line: dict[str, int] = {}
            if source.profile:
                for value, line_id in source.trunks.items():
                    count = profile_size_of(client.call(PROFILE_METHOD, [source.profile, value]))
                    per_line[line_id] = per_line.get(line_id, 0) + count
        except LiveError as exc:
            reason = str(exc)
            if source.name not in self._failing:
                log.warning("live source %s: %s (polling goes on; logged once until it answers again)",
                            source.name, reason)
            self._failing[source.name] = reason
            return LiveReading(source.name, False, error=reason)
        if self._failing.pop(source.name, None) is not None:
            log.info("live source %s answers again (%d calls in progress)", source.name, active)
        return LiveReading(source.name, True, active, per_line)

    def points(self, readings: Sequence[LiveReading], now_s: float) -> list[Point]:
        """``voice_live`` points at ``now_s`` (whole seconds): one per source (``active``, ``ok``), one per
        trunk line (its tags and ``source``; ``active``)."""
        time_ns = int(now_s) * 1_000_000_000
        out = []
        for reading in readings:
            fields: dict[str, int] = {"ok": int(reading.ok)}
            if reading.active is not None:
                fields["active"] = reading.active
            out.append(Point(LIVE_MEASUREMENT, {"source": reading.source}, fields, time_ns))
            for line_id, count in sorted(reading.per_line.items()):
                line = self.lines.get(line_id)
                if line is not None:
                    out.append(Point(LIVE_MEASUREMENT, line_tags(line) | {"source": reading.source},
                                     {"active": count}, time_ns))
        return out

    @property
    def failing(self) -> dict[str, str]:
        """The sources failing now, with the reason."""
        return dict(self._failing)

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
