"""Every enumeration linewatch uses, in one place (NetBox's ``choices.py`` pattern).

Validation, alert rules, billing and the Grafana value mappings all import from here; no other module re-lists
these values.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class LineStatus(StrEnum):
    """Lifecycle of a carrier line, with NetBox's circuit status values."""

    PLANNED = "planned"
    PROVISIONING = "provisioning"
    ACTIVE = "active"
    OFFLINE = "offline"
    DEPROVISIONING = "deprovisioning"
    DECOMMISSIONED = "decommissioned"

    @property
    def colour(self) -> str:
        return _LINE_STATUS_COLOUR[self]

    @property
    def monitored(self) -> bool:
        """Only active lines are alerted on and expected to carry traffic."""
        return self is LineStatus.ACTIVE


_LINE_STATUS_COLOUR = {
    LineStatus.PLANNED: "cyan",
    LineStatus.PROVISIONING: "blue",
    LineStatus.ACTIVE: "green",
    LineStatus.OFFLINE: "red",
    LineStatus.DEPROVISIONING: "yellow",
    LineStatus.DECOMMISSIONED: "gray",
}


class LineType(StrEnum):
    INTERNET = "internet"
    MPLS = "mpls"
    LEASED_LINE = "leased_line"
    ETHERNET = "ethernet"
    VOICE_TRUNK = "voice_trunk"
    SDWAN = "sdwan"
    OTHER = "other"


class OperStatus(IntEnum):
    """IF-MIB ifOperStatus / ifAdminStatus values (admin uses 1..3)."""

    UP = 1
    DOWN = 2
    TESTING = 3
    UNKNOWN = 4
    DORMANT = 5
    NOT_PRESENT = 6
    LOWER_LAYER_DOWN = 7


class LineHealth(IntEnum):
    """What the NOC wall shows per line. Stored as the integer field ``health`` so Grafana can map it."""

    UP = 1
    DOWN = 2
    NO_DATA = 3
    ADMIN_DOWN = 4

    @property
    def colour(self) -> str:
        return _HEALTH_COLOUR[self]

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").lower()


_HEALTH_COLOUR = {
    LineHealth.UP: "green",
    LineHealth.DOWN: "red",
    LineHealth.NO_DATA: "purple",
    LineHealth.ADMIN_DOWN: "gray",
}


def health_from_status(*, oper: int | None, admin: int | None) -> LineHealth:
    """Map IF-MIB statuses to what the wall display shows."""
    if oper is None:
        return LineHealth.NO_DATA
    if admin is not None and admin != OperStatus.UP:
        return LineHealth.ADMIN_DOWN
    return LineHealth.UP if oper == OperStatus.UP else LineHealth.DOWN


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @property
    def colour(self) -> str:
        return _SEVERITY_COLOUR[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_SEVERITY_COLOUR = {Severity.INFO: "blue", Severity.WARNING: "orange", Severity.CRITICAL: "red"}


class ChargeType(StrEnum):
    MONTHLY_RECURRING = "monthly_recurring"
    ONE_TIME = "one_time"
    USAGE = "usage"
    TAX = "tax"
    SURCHARGE = "surcharge"
    CREDIT = "credit"
    LATE_FEE = "late_fee"
    ADJUSTMENT = "adjustment"

    @property
    def account_level(self) -> bool:
        """Charges spread over lines in proportion to their amounts rather than billed to one circuit."""
        return self in (ChargeType.TAX, ChargeType.SURCHARGE)


class SnmpAuthProtocol(StrEnum):
    """SNMPv3 authentication protocols linewatch accepts (each maps to a pysnmp protocol in the SNMP client)."""

    MD5 = "MD5"
    SHA = "SHA"
    SHA224 = "SHA-224"
    SHA256 = "SHA-256"
    SHA384 = "SHA-384"
    SHA512 = "SHA-512"


class SnmpPrivProtocol(StrEnum):
    DES = "DES"
    AES128 = "AES-128"
    AES192 = "AES-192"
    AES256 = "AES-256"


# Grafana colour thresholds for utilization of the contracted capacity, in percent.
UTILIZATION_WARNING_PCT = 80.0
UTILIZATION_CRITICAL_PCT = 95.0
