"""Typed errors. Raised deep, caught at the edge (CLI, per-device task, per-receiver delivery, per-file import)."""

from __future__ import annotations

from dataclasses import dataclass


class LinewatchError(Exception):
    """Base of every error linewatch raises on purpose."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a configuration or input file, located as precisely as we can."""

    file: str
    line: int | None
    key: str
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.key}:" if self.key else ""
        return f"{where}:{key} {self.reason}"


class ConfigError(LinewatchError):
    """A configuration file is invalid; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.key))
        super().__init__("\n".join(str(p) for p in self.problems))


class InfluxError(LinewatchError):
    """Talking to InfluxDB failed."""


class InfluxUnavailable(InfluxError):
    """InfluxDB could not be reached or answered 5xx / timed out: worth retrying later."""


class InfluxRejected(InfluxError):
    """InfluxDB answered 4xx: the request itself is wrong and a retry cannot help."""


class InfluxQueryError(InfluxError):
    """An InfluxQL query returned an error."""


class SnmpError(LinewatchError):
    """An SNMP request to a device failed."""

    def __init__(self, device: str, message: str):
        self.device = device
        super().__init__(f"{device}: {message}")


class SnmpTimeout(SnmpError):
    """The device did not answer within timeout × (retries + 1)."""


class SnmpAuthError(SnmpError):
    """SNMPv3 authentication or privacy failed (wrong user, keys or protocols)."""


class LineProtocolError(InfluxError, ValueError):
    """A point cannot be written as InfluxDB line protocol (empty or invalid name, newline, int out of range)."""


class ServerError(LinewatchError):
    """A local server launched by linewatch (influxd, snmpd) is missing, failed to start or to stop."""


class BerError(LinewatchError):
    """An SNMP message is not valid BER (truncated, bad length, unexpected tag); the SNMP client wraps it per device."""


class InfluxSetupError(InfluxRejected):
    """InfluxDB refused a request because it is not set up for it (credentials, database): fix the setup.

    Unlike other rejections the data itself is fine, so the writer keeps such batches in its spool.
    """


class InfluxDatabaseNotFound(InfluxSetupError):
    """InfluxDB answered 404 "database not found" (on 2.x: no bucket / DBRP mapping)."""


class InfluxAuthFailed(InfluxSetupError):
    """InfluxDB answered 401/403: wrong or missing credentials / token, or no write permission."""


class InvoiceFileError(LinewatchError):
    """An invoice file cannot be imported at all (unreadable, wrong encoding, missing column, empty, not a
    spreadsheet); nothing of it is stored."""

    def __init__(self, file: str, reason: str):
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}")


class DashboardError(LinewatchError):
    """A Grafana dashboard source (``grafana/dashboards/*.dashboard.py``) cannot be built or its generated JSON
    is invalid (legacy panel type, duplicate uid); the message names the file."""


class AlertStoreError(LinewatchError):
    """The alerting state file (SQLite) cannot be opened or written, or a stored object does not exist."""


class DeliveryError(LinewatchError):
    """A notification could not be delivered to a receiver; the outbox retries it with backoff until it expires.

    ``retry_after_s``: the receiver asked us to wait this long (Slack 429 Retry-After). ``permanent``: a retry is
    unlikely to help without a configuration change (still retried until expiry, but logged at ERROR).
    """

    def __init__(self, receiver: str, message: str, *, retry_after_s: float | None = None, permanent: bool = False):
        self.receiver = receiver
        self.retry_after_s = retry_after_s
        self.permanent = permanent
        super().__init__(f"receiver {receiver}: {message}")


class FlowDecodeError(LinewatchError, ValueError):
    """A NetFlow v5/v9/IPFIX packet cannot be decoded (truncated, wrong version, absurd lengths); counted per exporter."""

    def __init__(self, reason: str, *, kind: str = "malformed"):
        self.reason = reason
        self.kind = kind
        super().__init__(reason)


class CaptureError(LinewatchError):
    """A packet capture (pcap/pcapng file, tshark) cannot be read; the message names the file and the offset."""
