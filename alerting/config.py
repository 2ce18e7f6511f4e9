"""``alerts.yaml``: rules, per-line/department overrides, the routing tree, receivers and maintenance windows.

Parsed once, strictly (``linewatch.yamlconf``), into the models below; cross-field rules (unknown receiver, unknown
rule in an override, unknown line, clear threshold above the warning threshold, ...) are reported with the file line
of the offending entry. Secrets (SMTP password, Slack webhook URL, webhook bearer token) are ``SecretStr`` and may be written as
``${ENV_VAR}`` so the file itself holds no secret.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from alerting.matchers import LABEL_NAMES, Matcher, parse_matcher
from linewatch.choices import (
    UTILIZATION_CRITICAL_PCT,
    UTILIZATION_WARNING_PCT,
    AlertRuleKind,
    AlertScope,
    AnomalyDirection,
    Language,
    LineType,
    Severity,
    SmtpTls,
)
from linewatch.errors import ConfigError, Problem
from linewatch.inventory import Inventory, load_inventory
from linewatch.settings import Settings
from linewatch.yamlconf import EnvSecretStr, Located, load_model

_STRICT = ConfigDict(extra="forbid", frozen=True)
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")  # datetime.weekday() order
TRAFFIC_ERROR_FIELDS = ("in_errors_ps", "out_errors_ps", "in_discards_ps", "out_discards_ps")


def _matchers(values: list[str]) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(v) for v in values)


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Seoul)") from None
    return value


def _weekdays(values: list[str]) -> list[str]:
    out = [v.lower() for v in values]
    for v in out:
        if v not in _WEEKDAYS:
            raise ValueError(f"unknown weekday {v!r} (use {', '.join(_WEEKDAYS)})")
    return out


def _time_of_day(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):  # YAML 1.1 reads 2:00 as sexagesimal 120
        if not 0 <= value < 24 * 60:
            raise ValueError(f"{value // 60}:{value % 60:02d} is not a time of day (use 00:00 to 23:59)")
        return dt.time(value // 60, value % 60)
    return value


TimeZoneName = Annotated[str, AfterValidator(_zone)]
Weekdays = Annotated[list[str], AfterValidator(_weekdays)]
TimeOfDay = Annotated[dt.time, BeforeValidator(_time_of_day)]


# -- rules ------------------------------------------------------------------------------------------------------


class _RuleBase(BaseModel):
    model_config = _STRICT
    name: Name
    description: str = ""
    enabled: bool = True

    @property
    def scope(self) -> AlertScope:
        return AlertScope.LINE

    def tunables(self) -> set[str]:
        """Fields an override may change."""
        return set(type(self).model_fields) - {"name", "kind", "description", "sample_s", "scope"}


class _Sustained(_RuleBase):
    """Shared by threshold rules: bucket averages over ``sample_s`` must stay above a threshold for ``for_s``."""

    for_s: float = Field(default=300, ge=0, le=86400, description="how long the bucket averages must stay above")
    clear_for_s: float = Field(default=0, ge=0, le=86400, description="how long below the clear level to resolve")
    sample_s: int = Field(default=60, ge=1, le=3600, description="averaging bucket: the collector's poll interval")


class _PercentLevels(_Sustained):
    """Warning/critical/clear levels in % of a contracted capacity (bandwidth or voice channels)."""

    warning_pct: float = Field(default=UTILIZATION_WARNING_PCT, gt=0)
    critical_pct: float | None = Field(default=UTILIZATION_CRITICAL_PCT, gt=0)
    clear_pct: float = Field(default=70.0, ge=0)
    critical_clear_pct: float | None = Field(default=None, ge=0, description="default: critical_pct - 5")

    @model_validator(mode="after")
    def _ordered(self) -> _PercentLevels:
        _check_levels(self.warning_pct, self.critical_pct, self.clear_pct, self.critical_clear_pct, "_pct")
        return self

    def thresholds(self) -> Thresholds:
        return Thresholds.of(self.warning_pct, self.critical_pct, self.clear_pct, self.critical_clear_pct,
                             self.for_s, self.clear_for_s, self.sample_s)


class UtilizationRule(_PercentLevels):
    """In or out utilization of the contracted capacity."""

    kind: Literal[AlertRuleKind.UTILIZATION]


class ErrorRateRule(_Sustained):
    """Interface errors and/or discards per second (the largest of ``fields``)."""

    kind: Literal[AlertRuleKind.ERROR_RATE]
    fields: tuple[Literal["in_errors_ps", "out_errors_ps", "in_discards_ps", "out_discards_ps"], ...] = (
        "in_errors_ps", "out_errors_ps")  # fmt: skip
    warning_ps: float = Field(default=1.0, gt=0)
    critical_ps: float | None = Field(default=None, gt=0)
    clear_ps: float | None = Field(default=None, ge=0, description="default: half of warning_ps")
    critical_clear_ps: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> ErrorRateRule:
        if not self.fields:
            raise ValueError("fields must name at least one of " + ", ".join(TRAFFIC_ERROR_FIELDS))
        clear = self.warning_ps / 2 if self.clear_ps is None else self.clear_ps
        _check_levels(self.warning_ps, self.critical_ps, clear, self.critical_clear_ps, "_ps")
        return self

    def tunables(self) -> set[str]:
        return super().tunables() - {"fields"}

    def thresholds(self) -> Thresholds:
        clear = self.warning_ps / 2 if self.clear_ps is None else self.clear_ps
        return Thresholds.of(self.warning_ps, self.critical_ps, clear, self.critical_clear_ps,
                             self.for_s, self.clear_for_s, self.sample_s)


class LineDownRule(_RuleBase):
    """Oper status down while admin status up, for ``consecutive_polls`` polls in a row — on every member
    interface of the line (a LAG or a primary/backup pair is down only when all its members are)."""

    kind: Literal[AlertRuleKind.LINE_DOWN]
    consecutive_polls: int = Field(default=3, ge=1, le=100)
    severity: Severity = Severity.CRITICAL
    lookback_s: int = Field(default=1800, ge=60, le=86400, description="polls older than this are not looked at")


class MemberDownRule(_RuleBase):
    """One or more members of a multi-member line down (oper down, admin up) for ``consecutive_polls`` polls
    while another member still carries the traffic: the LAG is degraded or the backup took over."""

    kind: Literal[AlertRuleKind.MEMBER_DOWN]
    consecutive_polls: int = Field(default=3, ge=1, le=100)
    severity: Severity = Severity.WARNING
    lookback_s: int = Field(default=1800, ge=60, le=86400, description="polls older than this are not looked at")


class DeviceUnreachableRule(_RuleBase):
    """The collector could not poll a device (``collector_poll.ok = 0``) ``consecutive_polls`` times in a row."""

    kind: Literal[AlertRuleKind.DEVICE_UNREACHABLE]
    consecutive_polls: int = Field(default=3, ge=1, le=100)
    severity: Severity = Severity.CRITICAL
    lookback_s: int = Field(default=1800, ge=60, le=86400)

    @property
    def scope(self) -> AlertScope:
        return AlertScope.DEVICE


class NoDataRule(_RuleBase):
    """The collector has written nothing for a line (or, with ``scope: device``, for a device) for ``after_s``."""

    kind: Literal[AlertRuleKind.NO_DATA]
    scope_: AlertScope = Field(default=AlertScope.LINE, alias="scope")
    after_s: float = Field(default=600, ge=1, le=7 * 86400)
    lookback_s: int = Field(default=3600, ge=60, le=30 * 86400,
                            description="how far back to look for the last point (bounds the query)")
    severity: Severity = Severity.WARNING

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def scope(self) -> AlertScope:
        return self.scope_

    @model_validator(mode="after")
    def _lookback(self) -> NoDataRule:
        if self.lookback_s <= self.after_s:
            raise ValueError(f"lookback_s ({self.lookback_s}) must be larger than after_s ({self.after_s})")
        return self

    def tunables(self) -> set[str]:
        return {"enabled", "after_s", "severity"}


# -- voice trunk rules (voice_trunk points, docs/schema.md; subjects: the voice_trunk lines only) ----------------


class ChannelUtilizationRule(_PercentLevels):
    """Busy channels of a voice trunk in % of its contracted ``channels`` (the 80 % rule), sustained, with
    hysteresis: per ``sample_s`` bucket the most calls in progress at once (``busy_max`` of the CDRs, or the live
    count of ``voice_live`` when higher) divided by the line's channels. Only lines with ``channels``."""

    kind: Literal[AlertRuleKind.CHANNEL_UTILIZATION]


class BlockedCallsRule(_RuleBase):
    """All-circuits-busy calls (``voice_trunk.blocked``) in the last ``window_s``, as a rate per hour, at or above
    ``warning_per_hour`` / ``critical_per_hour``; a firing alert clears below ``clear_per_hour``."""

    kind: Literal[AlertRuleKind.BLOCKED_CALLS]
    window_s: int = Field(default=3600, ge=60, le=86400, description="the calls counted: those started this recently")
    warning_per_hour: float = Field(default=5.0, gt=0)
    critical_per_hour: float | None = Field(default=None, gt=0)
    clear_per_hour: float | None = Field(default=None, ge=0, description="default: half of warning_per_hour")

    @model_validator(mode="after")
    def _ordered(self) -> BlockedCallsRule:
        _check_levels(self.warning_per_hour, self.critical_per_hour, self._clear, None, "_per_hour")
        return self

    @property
    def _clear(self) -> float:
        return self.warning_per_hour / 2 if self.clear_per_hour is None else self.clear_per_hour

    def thresholds(self) -> Thresholds:
        """Levels of a count: the latest value alone decides (``for_s`` 0), with the clear level's hysteresis."""
        return Thresholds.of(self.warning_per_hour, self.critical_per_hour, self._clear, None, 0, 0)


class _CallCountRule(_RuleBase):
    """Toll fraud: ``min_calls`` or more suspicious calls started in the last ``lookback_s`` fire at ``severity``;
    the alert resolves once they are older than ``lookback_s``."""

    lookback_s: int = Field(default=3600, ge=60, le=7 * 86400, description="the calls counted: started this recently")
    min_calls: int = Field(default=1, ge=1, le=100_000)
    severity: Severity = Severity.CRITICAL


class PremiumDestinationRule(_CallCountRule):
    """Calls to premium-rate numbers (``dest_class`` premium) or to high-risk prefixes (voice.yaml
    ``numbering.high_risk_prefixes``): ``voice_trunk.premium`` + ``voice_trunk.high_risk``."""

    kind: Literal[AlertRuleKind.PREMIUM_DESTINATION]


class BusinessHours(BaseModel):
    """When the company works: ``weekdays`` from ``start`` to ``end`` (local time of ``timezone``)."""

    model_config = _STRICT
    timezone: TimeZoneName = "UTC"
    weekdays: Weekdays = Field(default_factory=lambda: list(_WEEKDAYS[:5]), min_length=1)
    start: TimeOfDay = dt.time(8, 0)
    end: TimeOfDay = dt.time(18, 0)

    @model_validator(mode="after")
    def _span(self) -> BusinessHours:
        if self.start >= self.end:
            raise ValueError(f"start ({self.start:%H:%M}) must be before end ({self.end:%H:%M})")
        return self

    def contains(self, t_s: float) -> bool:
        """Whether ``t_s`` (epoch seconds) is a working day's ``start <= local time < end``."""
        local = dt.datetime.fromtimestamp(t_s, ZoneInfo(self.timezone))
        return _WEEKDAYS[local.weekday()] in self.weekdays and self.start <= local.time() < self.end


class AfterHoursInternationalRule(_CallCountRule):
    """Outbound international calls (``voice_trunk.international``) started outside ``business_hours``; each
    minute's calls are placed by the minute's start in the business hours' time zone."""

    kind: Literal[AlertRuleKind.AFTER_HOURS_INTERNATIONAL]
    min_calls: int = Field(default=3, ge=1, le=100_000)
    severity: Severity = Severity.WARNING
    business_hours: BusinessHours = Field(default_factory=BusinessHours)


class CostSpikeRule(_RuleBase):
    """The rated call cost of the last hour above ``factor`` × the trunk's baseline and at least ``min_cost`` (in
    the rate plan's currency). Baseline: the mean cost of the same hour of the week (the same 60 minutes, 1 to
    ``baseline_weeks`` weeks back); a week in which the trunk has no ``voice_trunk`` point at all (not installed yet,
    collector not running) is left out, so a new trunk is not compared with weeks it did not exist; without any
    such week there is no baseline and the rule does not fire (premium_destination and after_hours_international
    still do)."""

    kind: Literal[AlertRuleKind.COST_SPIKE]
    factor: float = Field(default=3.0, gt=1, le=1000)
    min_cost: float = Field(default=20.0, ge=0, description="a spike below this cost per hour is no alert")
    baseline_weeks: int = Field(default=4, ge=1, le=12)
    severity: Severity = Severity.CRITICAL


# -- trend rules (line_outlook of the trends job, line_traffic against its hour-of-week baseline) -----------------


class ForecastCrossingRule(_RuleBase):
    """The busy-hour forecast of a line (the latest ``line_outlook`` point the trends job wrote, docs/trends.md)
    crosses ``level_pct`` of the contracted capacity within ``within_days``: fires on ``days_to_<level>``, the days
    left counted from the evaluation time; resolves once the crossing is more than ``clear_within_days`` away or no
    longer within the forecast's horizon."""

    kind: Literal[AlertRuleKind.FORECAST_CROSSING]
    level_pct: float = Field(default=80, gt=0, le=200, description="one of trends.thresholds_pct (linewatch.yaml)")
    within_days: float = Field(default=30, gt=0, le=730)
    clear_within_days: float | None = Field(default=None, gt=0, le=730, description="default: within_days")
    lookback_s: int = Field(default=3 * 86400, ge=3600, le=30 * 86400,
                            description="an outlook older than this is not looked at (the trends job runs daily)")
    severity: Severity = Severity.WARNING

    @model_validator(mode="after")
    def _clear(self) -> ForecastCrossingRule:
        if self.clear_within_days is not None and self.clear_within_days < self.within_days:
            raise ValueError(f"clear_within_days ({self.clear_within_days:g}) must not be below within_days "
                             f"({self.within_days:g}), or alerts would flap")
        return self

    @property
    def clear_days(self) -> float:
        return self.within_days if self.clear_within_days is None else self.clear_within_days

    def tunables(self) -> set[str]:
        return super().tunables() - {"lookback_s"}


class AnomalyRule(_RuleBase):
    """Traffic (the higher of in/out, % of the contracted capacity, ``sample_s`` buckets) departs from the line's
    hour-of-week baseline (median and MAD of hourly means over ``baseline_weeks`` weeks, refreshed hourly) by
    ``k_mad`` MADs or more in every bucket of ``for_s``; clears below ``clear_k_mad`` (hysteresis). Drops count
    only where the baseline expects at least ``min_expected_pct`` (an idle line cannot drop); surges at any hour.
    A departure of less than ``min_change_pct`` points never counts."""

    kind: Literal[AlertRuleKind.ANOMALY]
    k_mad: float = Field(default=5.0, gt=0, le=100, description="departure in MADs of the baseline that fires")
    clear_k_mad: float | None = Field(default=None, ge=0, description="default: half of k_mad")
    baseline_weeks: int = Field(default=4, ge=1, le=12)
    min_samples: int = Field(default=3, ge=1, le=12,
                             description="baseline hours (of the same hour of the week) needed to judge a bucket")
    directions: tuple[AnomalyDirection, ...] = (AnomalyDirection.DROP, AnomalyDirection.SURGE)
    """Which departures count: ``drop`` (below the baseline), ``surge`` (above)."""
    min_expected_pct: float = Field(default=10.0, ge=0, le=100,
                                    description="drops count only where the baseline median is at least this")
    min_change_pct: float = Field(default=5.0, ge=0, le=100,
                                  description="a departure smaller than this many points never counts")
    timezone: TimeZoneName = Field(default="UTC", description="whose hours of the week the baseline is kept in")
    for_s: float = Field(default=900, ge=0, le=86400)
    clear_for_s: float = Field(default=0, ge=0, le=86400)
    sample_s: int = Field(default=300, ge=10, le=3600, description="averaging bucket of the recent traffic")
    baseline_refresh_s: int = Field(default=3600, ge=60, le=86400, description="how often the baseline is re-read")
    severity: Severity = Severity.WARNING

    @model_validator(mode="after")
    def _ordered(self) -> AnomalyRule:
        if not self.directions:
            raise ValueError("directions must name at least one of " + ", ".join(d.value for d in AnomalyDirection))
        if self.clear_k_mad is not None and self.clear_k_mad >= self.k_mad:
            raise ValueError(f"clear_k_mad ({self.clear_k_mad:g}) must be below k_mad ({self.k_mad:g}), "
                             f"or alerts would flap")
        return self

    def tunables(self) -> set[str]:
        return super().tunables() - {"baseline_weeks", "baseline_refresh_s", "min_samples", "timezone"}

    def thresholds(self) -> Thresholds:
        """Levels of the departure in MADs (in the allowed directions), sustained like the utilization rule."""
        clear = self.k_mad / 2 if self.clear_k_mad is None else self.clear_k_mad
        return Thresholds.of(self.k_mad, None, clear, None, self.for_s, self.clear_for_s, self.sample_s)


TREND_RULE_KINDS = frozenset({AlertRuleKind.FORECAST_CROSSING, AlertRuleKind.ANOMALY})
"""Rules over the trends job's outlook and the lines' seasonal baselines (alerting/trend_rules.py)."""

VOICE_RULE_KINDS = frozenset({AlertRuleKind.CHANNEL_UTILIZATION, AlertRuleKind.BLOCKED_CALLS,
                              AlertRuleKind.PREMIUM_DESTINATION, AlertRuleKind.AFTER_HOURS_INTERNATIONAL,
                              AlertRuleKind.COST_SPIKE})
"""Rules about voice trunks: their subjects are the inventory's ``voice_trunk`` lines only."""

Rule = Annotated[
    UtilizationRule | ErrorRateRule | LineDownRule | MemberDownRule | DeviceUnreachableRule | NoDataRule
    | ChannelUtilizationRule | BlockedCallsRule | PremiumDestinationRule | AfterHoursInternationalRule
    | CostSpikeRule | ForecastCrossingRule | AnomalyRule,
    Field(discriminator="kind"),
]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Levels of a sustained-threshold rule, in the rule's unit (a plain dataclass: built once per rule × line)."""

    warning: float
    critical: float | None
    clear: float
    critical_clear: float | None
    for_s: float
    clear_for_s: float
    sample_s: float = 0  # bucket length; 0: unknown (a run then counts up to the evaluation time)

    @classmethod
    def of(cls, warning: float, critical: float | None, clear: float, critical_clear: float | None,
           for_s: float, clear_for_s: float, sample_s: float = 0) -> Thresholds:
        if critical is not None and critical_clear is None:
            critical_clear = max(clear, critical - (critical - warning) / 3)
        return cls(warning, critical, clear, critical_clear, for_s, clear_for_s, sample_s)


def _check_levels(warning: float, critical: float | None, clear: float, critical_clear: float | None,
                  unit: str) -> None:
    if clear >= warning:
        raise ValueError(f"clear{unit} ({clear}) must be below warning{unit} ({warning}), or alerts would flap")
    if critical is not None:
        if critical <= warning:
            raise ValueError(f"critical{unit} ({critical}) must be above warning{unit} ({warning})")
        if critical_clear is not None and not clear <= critical_clear < critical:
            raise ValueError(f"critical_clear{unit} ({critical_clear}) must be between clear{unit} ({clear}) "
                             f"and critical{unit} ({critical})")
    elif critical_clear is not None:
        raise ValueError(f"critical_clear{unit} given without critical{unit}")


class Override(BaseModel):
    """Different settings of one rule for one line or one department (a line override wins)."""

    model_config = _STRICT
    rule: str
    line: str | None = None
    department: str | None = None
    set: dict[str, Any] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_target(self) -> Override:
        if (self.line is None) == (self.department is None):
            raise ValueError("give exactly one of line or department")
        return self


# -- routing, receivers, mutes ------------------------------------------------------------------------------------


class Route(BaseModel):
    """A node of the routing tree (Alertmanager semantics); unset timing fields inherit from the parent."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    receiver: str | None = None
    matchers: list[str] = Field(default_factory=list)
    continue_: bool = Field(default=False, alias="continue")
    group_by: list[str] | None = None
    group_wait_s: float | None = Field(default=None, ge=0)
    group_interval_s: float | None = Field(default=None, ge=0)
    repeat_interval_s: float | None = Field(default=None, gt=0)
    routes: list[Route] = Field(default_factory=list)

    @field_validator("matchers")
    @classmethod
    def _parse(cls, values: list[str]) -> list[str]:
        _matchers(values)
        return values

    @field_validator("group_by")
    @classmethod
    def _labels(cls, values: list[str] | None) -> list[str] | None:
        for v in values or []:
            if v not in LABEL_NAMES and v != "...":
                raise ValueError(f"unknown label {v!r} in group_by (known: {', '.join(LABEL_NAMES)}, or '...')")
        return values

    @cached_property
    def parsed_matchers(self) -> tuple[Matcher, ...]:
        return _matchers(self.matchers)


class EmailReceiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535, description="default: 587 starttls, 465 implicit, 25 none")
    tls: SmtpTls = SmtpTls.STARTTLS
    verify_tls: bool = True
    ca_file: Path | None = None
    username: str | None = None
    password: EnvSecretStr | None = None
    from_address: str = Field(alias="from", min_length=3)
    to: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    subject_prefix: str = "[linewatch]"
    timeout_s: float = Field(default=15.0, gt=0, le=300)

    @model_validator(mode="after")
    def _auth(self) -> EmailReceiver:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password for SMTP AUTH, or neither")
        if self.password is not None and self.tls is SmtpTls.NONE and self.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("refusing to send an SMTP password without TLS: set tls to starttls or implicit")
        return self

    @property
    def effective_port(self) -> int:
        return self.port if self.port is not None else self.tls.default_port


class SlackReceiver(BaseModel):
    model_config = _STRICT
    webhook_url: EnvSecretStr
    channel: str | None = None
    username: str | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, value: SecretStr) -> SecretStr:
        if not re.match(r"^https?://[^/\s]+", value.get_secret_value()):
            raise ValueError("webhook_url must be an http(s) URL")  # the value itself is a secret: not echoed
        return value


class WebhookReceiver(BaseModel):
    """POSTs the notification payload as JSON to an HTTP endpoint (the management application's alert intake,
    ``POST /api/faults/alerts/``), with ``Authorization: Bearer`` and ``Idempotency-Key`` headers."""

    model_config = _STRICT
    url: str = Field(pattern=r"^https?://[^/\s]+", description="http(s) URL of the endpoint")
    bearer_token: EnvSecretStr
    timeout_s: float = Field(default=10.0, gt=0, le=300)

    @field_validator("bearer_token")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("bearer_token is empty (is its environment variable set?)")  # the value is not echoed
        return value




class Receiver(BaseModel):
    model_config = _STRICT
    name: Name
    send_resolved: bool = True
    language: Language = Language.EN  # of the texts: rendered at delivery, so a change applies to queued messages
    timezone: str = "UTC"  # of the times shown (since, resolved at)
    email: EmailReceiver | None = None
    slack: SlackReceiver | None = None
    webhook: WebhookReceiver | None = None

    @model_validator(mode="after")
    def _one_channel(self) -> Receiver:
        if [self.email, self.slack, self.webhook].count(None) != 2:
            raise ValueError("give exactly one of email, slack or webhook")
        return self

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _zone(value)


class MaintenanceWindow(BaseModel):
    """A recurring time interval during which notifications of matching alerts are muted."""

    model_config = _STRICT
    name: Name
    matchers: list[str] = Field(min_length=1)
    weekdays: Weekdays = Field(default_factory=list, description="empty: every day")
    start_time: TimeOfDay
    end_time: TimeOfDay
    timezone: TimeZoneName = "UTC"

    @field_validator("matchers")
    @classmethod
    def _parse(cls, values: list[str]) -> list[str]:
        _matchers(values)
        return values

    @model_validator(mode="after")
    def _span(self) -> MaintenanceWindow:
        if self.start_time == self.end_time:
            raise ValueError("start_time and end_time are equal: the window would be empty")
        return self

    @cached_property
    def parsed_matchers(self) -> tuple[Matcher, ...]:
        return _matchers(self.matchers)

    def active_at(self, t_s: float) -> bool:
        """Whether ``t_s`` (epoch seconds) falls in the window; a window may cross midnight (22:00–02:00)."""
        local = dt.datetime.fromtimestamp(t_s, ZoneInfo(self.timezone))
        now = local.time()
        if self.start_time < self.end_time:
            inside, day = self.start_time <= now < self.end_time, local.weekday()
        elif now >= self.start_time:
            inside, day = True, local.weekday()
        else:  # after midnight: the window belongs to the day it started
            inside, day = now < self.end_time, (local.weekday() - 1) % 7
        return inside and (not self.weekdays or _WEEKDAYS[day] in self.weekdays)


class DeliverySettings(BaseModel):
    """Retry policy of the notification outbox."""

    model_config = _STRICT
    backoff_initial_s: float = Field(default=10.0, gt=0)
    backoff_max_s: float = Field(default=600.0, gt=0)
    expire_s: float = Field(default=86400.0, gt=0, description="give up (logged at ERROR) after this long")
    max_per_dispatch: int = Field(default=100, ge=1)


class AlertsConfig(BaseModel):
    model_config = _STRICT
    evaluation_interval_s: float = Field(default=60.0, ge=1, le=3600)
    dispatch_interval_s: float = Field(default=5.0, ge=0.1, le=600)
    state_file: Path | None = Field(default=None, description="default: <state_dir>/alerts.sqlite")
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    rules: list[Rule] = Field(min_length=1)
    overrides: list[Override] = Field(default_factory=list)
    route: Route
    receivers: list[Receiver] = Field(min_length=1)
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)

    @cached_property
    def receivers_by_name(self) -> dict[str, Receiver]:
        return {r.name: r for r in self.receivers}

    @cached_property
    def rules_by_name(self) -> dict[str, Any]:
        return {r.name: r for r in self.rules}

    def effective_rule(self, rule: Any, *, line: str, department: str) -> Any:
        """``rule`` with the overrides of ``department`` then ``line`` applied (validated at load)."""
        by_dept = self._override_index.get((rule.name, "department", department))
        by_line = self._override_index.get((rule.name, "line", line))
        if not by_dept and not by_line:
            return rule
        key = (rule.name, line if by_line else "", department if by_dept else "")
        cached = self._effective_cache.get(key)
        if cached is None:
            data = rule.model_dump(by_alias=True)
            data.update(by_dept or {})
            data.update(by_line or {})
            cached = self._effective_cache[key] = type(rule).model_validate(data)
        return cached

    @cached_property
    def _override_index(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        index: dict[tuple[str, str, str], dict[str, Any]] = {}
        for o in self.overrides:
            target = ("line", o.line) if o.line is not None else ("department", o.department)
            index.setdefault((o.rule, target[0], str(target[1])), {}).update(o.set)
        return index

    @cached_property
    def _effective_cache(self) -> dict[tuple[str, str, str], Any]:
        return {}


# -- loading and checking ------------------------------------------------------------------------------------------


def _forecast_levels(config: AlertsConfig, located: Located, levels_pct: Iterable[float]) -> list[Problem]:
    """Each ``forecast_crossing`` level (also in overrides) must be one the trends job forecasts a crossing for."""
    known = sorted({float(v) for v in levels_pct})
    shown = ", ".join(f"{v:g}" for v in known)
    problems: list[Problem] = []
    forecast = {r.name for r in config.rules if r.kind is AlertRuleKind.FORECAST_CROSSING}
    for i, rule in enumerate(config.rules):
        if rule.name in forecast and float(rule.level_pct) not in known:
            problems.append(located.problem(("rules", i, "level_pct"), f"no forecast for {rule.level_pct:g} %: the "
                                            f"trends job forecasts crossings of {shown} (trends.thresholds_pct)"))
    for i, o in enumerate(config.overrides):
        level = o.set.get("level_pct")
        if o.rule in forecast and isinstance(level, int | float) and float(level) not in known:
            problems.append(located.problem(("overrides", i, "set", "level_pct"), f"no forecast for {level} %: the "
                                            f"trends job forecasts crossings of {shown} (trends.thresholds_pct)"))
    return problems


def cross_check(config: AlertsConfig, located: Located, inventory: Inventory | None, *,
                forecast_levels_pct: Iterable[float] | None = None) -> list[Problem]:
    """Rules across entries: unique names, known receivers/rules/lines, valid overrides (and, given the trends
    settings' levels, forecast levels that the trends job writes)."""
    problems: list[Problem] = []
    if forecast_levels_pct is not None:
        problems.extend(_forecast_levels(config, located, forecast_levels_pct))
    for key, items in (("rules", config.rules), ("receivers", config.receivers),
                       ("maintenance_windows", config.maintenance_windows)):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.name in seen:
                problems.append(located.problem((key, i, "name"),
                                                f"duplicate name {item.name!r} (first at {key}[{seen[item.name]}])"))
            seen.setdefault(item.name, i)
    receivers = config.receivers_by_name
    if config.route.receiver is None:
        problems.append(located.problem(("route", "receiver"), "the root route needs a receiver"))

    def walk(route: Route, path: tuple[str | int, ...]) -> None:
        if route.receiver is not None and route.receiver not in receivers:
            problems.append(located.problem((*path, "receiver"), f"unknown receiver {route.receiver!r} "
                                            f"(defined: {', '.join(sorted(receivers)) or 'none'})"))
        for i, child in enumerate(route.routes):
            walk(child, (*path, "routes", i))

    walk(config.route, ("route",))
    rules = config.rules_by_name
    departments = {line.department for line in inventory.lines} if inventory is not None else None
    for i, o in enumerate(config.overrides):
        path: tuple[str | int, ...] = ("overrides", i)
        rule = rules.get(o.rule)
        if rule is None:
            problems.append(located.problem((*path, "rule"), f"unknown rule {o.rule!r} "
                                            f"(defined: {', '.join(sorted(rules))})"))
            continue
        if rule.scope is not AlertScope.LINE:
            problems.append(located.problem((*path, "rule"), f"rule {o.rule!r} is about devices, not lines"))
        allowed = rule.tunables()
        for key in o.set:
            if key not in allowed:
                problems.append(located.problem((*path, "set", key), f"cannot be overridden for a {rule.kind} rule "
                                                f"(allowed: {', '.join(sorted(allowed))})"))
        if all(key in allowed for key in o.set):
            try:
                type(rule).model_validate({**rule.model_dump(by_alias=True), **o.set})
            except ValidationError as exc:
                for err in exc.errors(include_input=False, include_url=False):
                    msg = err["msg"].removeprefix("Value error, ")
                    problems.append(located.problem((*path, "set", *err["loc"]), msg))
        if inventory is not None:
            if o.line is not None and o.line not in inventory.lines_by_id:
                problems.append(located.problem((*path, "line"), f"unknown line {o.line!r} (not in the inventory)"))
            elif o.line is not None and rule.kind in VOICE_RULE_KINDS:
                line_type = inventory.lines_by_id[o.line].type
                if line_type is not LineType.VOICE_TRUNK:
                    problems.append(located.problem((*path, "line"), f"{o.line} is a {line_type.value} line, not a "
                                                    f"voice_trunk: rule {o.rule} never looks at it"))
            if o.department is not None and departments is not None and o.department not in departments:
                problems.append(located.problem((*path, "department"), f"unknown department {o.department!r} "
                                                f"(inventory has: {', '.join(sorted(departments))})"))
    return problems


_TAG_FOUND = re.compile(r"Input tag '(?P<tag>.*)' found using 'kind' does not match")


def _plain_kind_problem(problem: Problem) -> Problem:
    """pydantic's messages about the rule discriminator, in words a rule author understands."""
    kinds = ", ".join(k.value for k in AlertRuleKind)
    if "discriminator 'kind'" in problem.reason:
        return Problem(problem.file, problem.line, f"{problem.key}.kind", f"missing (one of {kinds})")
    found = _TAG_FOUND.search(problem.reason)
    if found:
        return Problem(problem.file, problem.line, f"{problem.key}.kind",
                       f"unknown kind {found['tag']!r} (one of {kinds})")
    return problem


def load_alerts(path: Path | str, *, inventory: Inventory | None = None,
                forecast_levels_pct: Iterable[float] | None = None) -> AlertsConfig:
    """Load and validate ``alerts.yaml``; raise ConfigError listing every problem with its line number.
    ``forecast_levels_pct``: the levels the trends job forecasts (``trends.thresholds_pct``), checked when given."""
    try:
        config, located = load_model(path, AlertsConfig)
    except ConfigError as exc:
        raise ConfigError([_plain_kind_problem(p) for p in exc.problems]) from None
    problems = cross_check(config, located, inventory, forecast_levels_pct=forecast_levels_pct)
    if problems:
        raise ConfigError(problems)
    return config


def state_file(settings: Settings, config: AlertsConfig) -> Path:
    if config.state_file is not None:
        return settings.resolve(config.state_file)
    return settings.resolve(settings.state_dir) / "alerts.sqlite"


def check_config(settings: Settings) -> list[Problem]:
    """``linewatch check-config`` hook: every problem in alerts.yaml (checked against the inventory if it loads)."""
    try:
        inventory: Inventory | None = load_inventory(settings.resolve(settings.inventory_path))
    except ConfigError:
        inventory = None  # the inventory checker reports those problems
    try:
        load_alerts(settings.resolve(settings.alerts_path), inventory=inventory,
                    forecast_levels_pct=settings.trends.thresholds_pct)
    except ConfigError as exc:
        return exc.problems
    return []


def iter_rules(config: AlertsConfig) -> Iterable[Any]:
    return (r for r in config.rules if r.enabled)
