"""linewatch settings: one YAML file (default ``config/linewatch.yaml``) plus ``LINEWATCH_*`` environment overrides.

Nested keys use ``__`` in the environment: ``LINEWATCH_INFLUX__URL``, ``LINEWATCH_INFLUX__TOKEN``. Paths in the file
are relative to the file's folder. Secrets are ``SecretStr`` and print as ``**********``.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from linewatch.choices import DocumentFileType, ForecastMethod, InventorySource, Language, LdapGroupType, Role
from linewatch.errors import ConfigError, Problem
from linewatch.influx.settings import InfluxSettings
from linewatch.urls import check_http_url
from linewatch.yamlconf import EnvSecretStr, Located, load_located, validation_problems

DEFAULT_CONFIG = Path("config/linewatch.yaml")
CONFIG_ENV = "LINEWATCH_CONFIG"


class CollectorSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default_factory=socket.gethostname, min_length=1)
    interval_s: float = Field(default=60.0, ge=1, le=3600)
    max_concurrent_devices: int = Field(default=50, ge=1, le=10_000)
    max_repetitions: int = Field(default=50, ge=1, le=1000)
    state_path: Path = Path("var/collector-state.json")


def _octal_mode(value: object) -> object:
    # YAML reads 0640 as the octal int 416; the environment (and a quoted YAML value) gives "0640" or "0o640".
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("0o")
        if not re.fullmatch(r"[0-7]{3,4}", text):
            raise ValueError(f"{value!r} is not an octal file mode such as 0640")
        return int(text, 8)
    return value


def _export_mode(value: int) -> int:
    if value & ~0o664 or not value & 0o400:
        raise ValueError(
            f"file mode {value:04o} (decimal {value}): give an octal mode such as 0640 that the owner can read, "
            "with no execute or special bits and not writable by others"
        )
    return value


FileMode = Annotated[int, BeforeValidator(_octal_mode), AfterValidator(_export_mode)]


class GrafanaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: Annotated[str, AfterValidator(check_http_url)] = Field(
        default="http://localhost:3000", description="put into notifications as links: no user:password@")
    line_dashboard_uid: str = "linewatch-line"


class LdapSettings(BaseModel):
    """LDAP / Active Directory login of the management application (django-auth-ldap); off when absent."""

    model_config = ConfigDict(extra="forbid")
    server_uri: str = Field(min_length=1, pattern=r"^ldaps?://", description="ldap://host:389 or ldaps://host:636")
    start_tls: bool = False
    bind_dn: str = Field(default="", description="account that searches users and groups; empty: anonymous")
    bind_password: EnvSecretStr | None = None
    user_search_base: str = Field(min_length=1, description="e.g. ou=people,dc=example,dc=com")
    user_search_filter: str = Field(
        default="(uid=%(user)s)", pattern=r"%\(user\)s", description="AD: (sAMAccountName=%(user)s)")
    group_search_base: str = Field(min_length=1, description="e.g. ou=groups,dc=example,dc=com")
    group_type: LdapGroupType = LdapGroupType.GROUP_OF_NAMES
    roles: dict[str, Role] = Field(
        default_factory=dict, description="group DN -> role; a user gets the roles of every mapped group")
    timeout_s: float = Field(default=5.0, gt=0, le=60, description="connect and operation timeout")


class DocumentSettings(BaseModel):
    """Documents attached to carriers, contracts and lines (``web.documents``, docs/web.md "Documents")."""

    model_config = ConfigDict(extra="forbid")
    max_size_bytes: int = Field(default=20 * 1024 * 1024, ge=1, le=1024**3,
                                description="largest upload accepted; a larger one is refused as it arrives")
    allowed_types: list[DocumentFileType] = Field(
        default_factory=lambda: list(DocumentFileType), min_length=1,
        description="file types accepted, recognised from the content: " + ", ".join(DocumentFileType))
    path: Path | None = Field(default=None, description="private folder of the files; state_dir/documents when absent")

    @model_validator(mode="after")
    def _no_duplicate_type(self) -> DocumentSettings:
        twice = sorted({t.value for t in self.allowed_types if self.allowed_types.count(t) > 1})
        if twice:
            raise ValueError(f"allowed_types lists {', '.join(twice)} more than once")
        return self


class WebSettings(BaseModel):
    """The management application (``web/``, docs/web.md). Only its settings live here: the core never imports it."""

    model_config = ConfigDict(extra="forbid")
    database_url: EnvSecretStr | None = Field(
        default=None, description="postgresql://user:password@host:port/name; a SQLite file under state_dir when absent")
    secret_key: EnvSecretStr | None = Field(
        default=None, description="Django's signing key; generated into state_dir when absent (not in production)")
    credentials_key: EnvSecretStr | None = Field(
        default=None, description="Fernet key(s), comma-separated, newest first: encrypt the devices' SNMP secrets")
    allowed_hosts: list[str] = Field(default_factory=lambda: ["127.0.0.1", "localhost"])
    inventory_token: EnvSecretStr | None = Field(
        default=None, description="bearer token the collectors send to GET /api/inventory/ (SNMP secrets included)")
    ldap: LdapSettings | None = Field(default=None, description="LDAP/AD login; local accounts only when absent")
    login_failure_limit: int = Field(default=5, ge=1, le=100,
                                     description="failed logins of one user name from one address before a lockout")
    lockout_s: int = Field(default=15 * 60, ge=1, description="how long a lockout lasts (from the last failure)")
    session_idle_s: int = Field(default=30 * 60, ge=60, description="a session unused this long ends")
    session_max_s: int = Field(default=8 * 3600, ge=60, description="a session ends this long after its login")
    documents: DocumentSettings = Field(default_factory=DocumentSettings)
    mail_receiver: str | None = Field(
        default=None, description="alerts.yaml email receiver whose SMTP settings and From send the app's mail to "
                                  "addresses that are not receivers (carrier NOCs, users); default: the first one")
    alert_intake_token: EnvSecretStr | None = Field(
        default=None, description="bearer token the alert evaluator's webhook receiver sends to "
                                  "POST /api/faults/alerts/ (compared in constant time)")
    inventory_read_only: bool = Field(
        default=False, description="the files are the inventory's source: the app shows it read-only to every role "
                                   "(changes reach it by `linewatch inventory import DIR`)")


class InventorySettings(BaseModel):
    """Where the consumers read the inventory: lines.yaml (``files``) or the management application (``http``)."""

    model_config = ConfigDict(extra="forbid")
    source: InventorySource = InventorySource.FILES
    url: Annotated[str, AfterValidator(check_http_url)] | None = Field(
        default=None, description="the application's inventory endpoint, e.g. http://web:18000/api/inventory/")
    token: EnvSecretStr | None = Field(default=None, description="bearer token (web.inventory_token of the app)")
    cache_path: Path = Field(default=Path("var/inventory-cache.json"),
                             description="last good copy fetched from the app (0600), used while it is down")
    timeout_s: float = Field(default=10.0, gt=0, le=300)

    @model_validator(mode="after")
    def _url_for_http(self) -> InventorySettings:
        if self.source is InventorySource.HTTP and not self.url:
            raise ValueError("inventory.source is http: give inventory.url")
        return self


class FaultsSettings(BaseModel):
    """Fault tickets of the management application (``web/faults``, docs/faults.md)."""

    model_config = ConfigDict(extra="forbid")
    open_on_rules: list[str] = Field(
        default_factory=lambda: ["line_down", "no_data", "utilization"],
        description="alerts.yaml rule names whose firing alerts open a ticket (POST /api/faults/alerts/)")
    notify_carrier_automatically: bool = Field(
        default=False, description="an outage ticket opened by an alert mails the carrier's NOC at once")
    escalate_after_h: float = Field(
        default=4.0, gt=0, le=24 * 30, description="hours without an update before the next carrier contact is mailed")


class AcceptanceSettings(BaseModel):
    """What a new line must show, measured by the collector, to pass final acceptance (docs/acceptance.md)."""

    model_config = ConfigDict(extra="forbid")
    window_s: int = Field(default=86400, ge=60, le=90 * 86400,
                          description="how long the line is observed before acceptance is judged")
    min_uptime_pct: float = Field(default=100.0, ge=0, le=100,
                                  description="polls up (oper up while admin up) of the polls expected; a missed "
                                              "poll is not up")
    max_errors_ps: float = Field(default=0.0, ge=0,
                                 description="highest in/out error rate allowed on any poll (0: error-free)")
    min_mean_bps: float = Field(default=1000.0, ge=0,
                                description="a traffic bucket carries traffic when its mean (busier direction) "
                                            "reaches this")
    min_traffic_share_pct: float = Field(default=90.0, ge=0, le=100,
                                         description="share of the window's traffic buckets that must carry traffic")
    traffic_bucket_s: int = Field(default=300, ge=1, le=86400,
                                  description="length of a traffic bucket (5 minutes, as the billing's)")
    settle_s: float = Field(default=120.0, ge=0, le=3600,
                            description="judged from this long after the start: the collector picks a newly "
                                        "provisioned line up at its next cycle, and its first poll has no rates")

    @model_validator(mode="after")
    def _settle_within_window(self) -> AcceptanceSettings:
        if self.settle_s >= self.window_s:
            raise ValueError(f"settle_s ({self.settle_s:g}) must be shorter than window_s ({self.window_s})")
        return self


class OrdersSettings(BaseModel):
    """Orders of the management application (``web/orders``, docs/orders.md)."""

    model_config = ConfigDict(extra="forbid")
    acceptance: AcceptanceSettings = Field(default_factory=AcceptanceSettings)
    reminder_days_before: int = Field(
        default=2, ge=0, le=60, description="days before a step's due date its assignee is reminded (0: on the day)")
    finance_receiver: str | None = Field(
        default=None, description="alerts.yaml receiver told when a termination is complete (with the requester)")


class FinanceSettings(BaseModel):
    """The finance workflow of the management application (``web/invoices``, ``web/findings``, ``web/credits``,
    ``web/budgets``; docs/finance.md)."""

    model_config = ConfigDict(extra="forbid")
    receivers: list[str] = Field(
        default_factory=list,
        description="alerts.yaml receivers told of invoices due soon and overdue (email or Slack), in their language")
    payment_reminder_days: list[int] = Field(
        default_factory=lambda: [7, 1], description="days before an unpaid invoice's due date a reminder goes out")
    dispute_reminder_days: int = Field(
        default=14, ge=1, le=365, description="an open dispute without the carrier's answer is chased after this many days")
    audit_interval_s: int = Field(
        default=900, ge=60, le=86400, description="how often the worker re-audits the periods with new invoices")
    credit_match_tolerance_pct: float = Field(
        default=1.0, ge=0, le=100, description="a credit within this share of a dispute's claimed amount matches it")


class ImapSettings(BaseModel):
    """The mailbox carriers send their invoices to (``web/intake``)."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1)
    port: int = Field(default=993, ge=1, le=65535)
    security: str = Field(default="ssl", pattern=r"^(ssl|starttls|none)$",
                          description="ssl (IMAPS, 993), starttls (143) or none (loopback tests only)")
    username: str = Field(min_length=1)
    password: EnvSecretStr
    mailbox: str = Field(default="INBOX")
    processed_mailbox: str | None = Field(
        default=None, description="mailbox processed messages are moved to; none: they stay, flagged \\Seen")
    ca_file: Path | None = Field(default=None, description="CA bundle for a private server's certificate")
    timeout_s: float = Field(default=30.0, gt=0, le=600)


class IntakeSettings(BaseModel):
    """Invoices collected by themselves (``web/intake``, docs/intake.md): a watched drop folder and an IMAP mailbox."""

    model_config = ConfigDict(extra="forbid")
    folder: Path | None = Field(default=None, description="drop folder watched for invoice files; none when absent")
    imap: ImapSettings | None = Field(default=None, description="IMAP mailbox of emailed invoices; none when absent")
    interval_s: int = Field(default=300, ge=5, le=86400, description="how often the folder and mailbox are read")
    report_to: list[str] = Field(
        default_factory=list, description="email addresses told the outcome of every file (imported, quarantined, rejected)")
    report_language: str = Field(default="en", pattern=r"^(en|ko)$")


class TrendsSettings(BaseModel):
    """Trends and forecasts per line (``linewatch trends run``, docs/trends.md)."""

    model_config = ConfigDict(extra="forbid")
    history_days: int = Field(default=91, ge=14, le=800, description="days of history a forecast is fitted on")
    horizon_days: int = Field(default=120, ge=7, le=730, description="how far ahead the forecast runs")
    method: ForecastMethod = Field(default=ForecastMethod.ROBUST_SEASONAL,
                                   description="holt_winters, robust_seasonal or linear (docs/forecast.md: the backtest)")
    thresholds_pct: list[float] = Field(default_factory=lambda: [80.0, 95.0],
                                        description="busy-hour utilization levels whose crossing dates are forecast")
    interval_pct: float = Field(default=80.0, gt=0, lt=100, description="the forecast interval's coverage")


def _zone_name(value: str) -> str:
    """An IANA time zone name that this system knows (a typo is an error at load, not at the first report)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (an IANA name such as UTC or Asia/Seoul)") from None
    return value


class ReportsSettings(BaseModel):
    """Reports (``web/reports``, ``linewatch report``, docs/reports.md)."""

    model_config = ConfigDict(extra="forbid")
    template_dir: Path | None = Field(default=None,
                                      description="a folder of users' report templates (*.html, Jinja2) besides the built-in ones")
    output_dir: Path | None = Field(default=None,
                                    description="where rendered and sent reports are kept; state_dir/reports when absent")
    timezone: Annotated[str, AfterValidator(_zone_name)] = Field(
        default="UTC", description="the zone whose days and months a report's period covers (an IANA name, "
                                   "e.g. Asia/Seoul); UTC when absent")


class Settings(BaseSettings):
    """Top-level settings. Other areas keep their own files (alerts, carriers, contracts) and are pointed at here."""

    model_config = SettingsConfigDict(env_prefix="LINEWATCH_", env_nested_delimiter="__", extra="forbid")

    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    collector: CollectorSettings = Field(default_factory=CollectorSettings)
    grafana: GrafanaSettings = Field(default_factory=GrafanaSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    inventory: InventorySettings = Field(default_factory=InventorySettings)
    faults: FaultsSettings = Field(default_factory=FaultsSettings)
    orders: OrdersSettings = Field(default_factory=OrdersSettings)
    finance: FinanceSettings = Field(default_factory=FinanceSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    trends: TrendsSettings = Field(default_factory=TrendsSettings)
    reports: ReportsSettings = Field(default_factory=ReportsSettings)
    inventory_path: Path = Path("lines.yaml")
    alerts_path: Path = Path("alerts.yaml")
    carriers_path: Path = Path("carriers.yaml")
    contracts_path: Path = Path("contracts.yaml")
    flows_path: Path = Path("flows.yaml")
    voice_path: Path = Path("voice.yaml")
    state_dir: Path = Path("var")
    export_mode: FileMode = Field(default=0o640, description="mode of every billing export file (octal)")
    export_language: Language = Field(
        default=Language.EN, description="language of the billing exports' CSV/XLSX headers: en or ko (Parquet keeps machine names)")
    config_file: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first: it overrides what the YAML file (passed as init kwargs) says.
        return (env_settings, init_settings)

    def resolve(self, path: Path) -> Path:
        """A path from the settings, relative to the config file's folder."""
        if path.is_absolute() or self.config_file is None:
            return path
        return self.config_file.parent / path

    def influx_settings(self) -> InfluxSettings:
        """The InfluxDB settings with the spool path made relative to the config file's folder."""
        spool = self.influx.spool.model_copy(update={"path": self.resolve(self.influx.spool.path)})
        return self.influx.model_copy(update={"spool": spool})

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data with every secret masked, for printing."""
        return self.model_dump(mode="json")


def _config_path(path: Path | str | None) -> Path:
    if path is not None:
        return Path(path)
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(path: Path | str | None = None) -> Settings:
    """Load settings from ``path`` (or $LINEWATCH_CONFIG, or config/linewatch.yaml) and the environment."""
    file = _config_path(path)
    located = load_located(file) if file.exists() or path is not None else Located(str(file), {}, {})
    if not isinstance(located.data, dict):
        raise ConfigError([Problem(located.file, 1, "", "expected a mapping at the top level")])
    data = {k: v for k, v in located.data.items() if k != "config_file"}
    if "config_file" in located.data:
        raise ConfigError([located.problem(("config_file",), "unknown key")])
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_settings_problems(located, exc)) from None
    return settings.model_copy(update={"config_file": file.resolve()})


def _env_source(loc: tuple[str | int, ...]) -> str | None:
    """The ``LINEWATCH_*`` variable that set the value at ``loc`` (``influx.url`` ← ``LINEWATCH_INFLUX__URL``, or a
    JSON ``LINEWATCH_INFLUX``), if any: the environment overrides the file."""
    present = {name.upper() for name in os.environ}
    keys = [str(part).upper() for part in loc]
    for end in range(len(keys), 0, -1):
        name = "LINEWATCH_" + "__".join(keys[:end])
        if name in present:
            return name
    return None


def _settings_problems(located: Located, exc: ValidationError) -> list[Problem]:
    """Located problems; a value that came from the environment is reported against its variable, not the file."""
    problems = []
    errors = exc.errors(include_input=False, include_url=False)
    for err, problem in zip(errors, validation_problems(located, exc), strict=True):
        var = _env_source(tuple(err["loc"]))
        if var is not None and err["type"] != "extra_forbidden":
            key = ".".join(str(part) for part in err["loc"])
            problem = Problem(f"${var}", None, key, problem.reason)
        problems.append(problem)
    return problems
