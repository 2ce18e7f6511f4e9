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


class LabelValuePosition(StrEnum):
    """Where an invoice header value sits relative to its label (billing layouts, ``fields: {label, value}``)."""

    RIGHT = "right"  # the next non-empty cell on the label's row ("Account | 778812")
    BELOW = "below"  # the cell under the label (a row of labels above a row of values)


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


# -- billing ETL (billing_etl/) -----------------------------------------------------------------------------------


class BillingModel(StrEnum):
    """How a line's contract turns usage into money."""

    FLAT = "flat"
    BURSTABLE_95 = "burstable_95th"
    VOLUME_QUOTA = "volume_quota"


class UsageDirection(StrEnum):
    """Which direction of a 5-minute sample counts for a burstable 95th percentile."""

    MAX = "max"  # max(in, out) per sample: the carriers' usual default
    IN = "in"
    OUT = "out"
    SUM = "in+out"


class GbUnit(StrEnum):
    """How a volume contract counts a GB."""

    DECIMAL = "decimal"  # 10^9 bytes
    BINARY = "binary"  # 2^30 bytes (GiB)

    @property
    def bytes(self) -> int:
        return 10**9 if self is GbUnit.DECIMAL else 2**30


class ProrationConvention(StrEnum):
    """How a monthly charge is prorated for a partial month."""

    ACTUAL_DAYS = "actual_days"  # MRC × active days / days in the month
    THIRTIETHS = "thirtieths"  # MRC × active days / 30 (a full month is always 30/30)


class AuditRule(StrEnum):
    """Invoice audit rules of the billing ETL; each finding names one."""

    RATE_MISMATCH = "rate_mismatch"
    AFTER_TERMINATION = "after_termination"
    BEFORE_INSTALL = "before_install"
    DUPLICATE_CHARGE = "duplicate_charge"
    GHOST_CIRCUIT = "ghost_circuit"
    UNBILLED_LINE = "unbilled_line"
    PRORATION_MISMATCH = "proration_mismatch"
    LATE_FEE = "late_fee"
    USAGE_MISMATCH = "usage_mismatch"
    MONTH_OVER_MONTH = "month_over_month"
    SLA_CREDIT_OWED = "sla_credit_owed"
    CONTRACT_EVENT = "contract_event"
    INVOICE_ARITHMETIC = "invoice_arithmetic"
    INVOICE_CONFLICT = "invoice_conflict"
    INVOICE_NOT_IMPORTED = "invoice_not_imported"  # a file of the carrier was rejected
    VOICE_USAGE_MISMATCH = "voice_usage_mismatch"  # billed call charges of a voice line ≠ its CDRs rated by the plan
    CALL_NOT_IN_CDRS = "call_not_in_cdrs"  # an itemized call the PBX never recorded
    CALL_ROUNDING = "call_rounding"  # an itemized call's billed duration rounded beyond the contract's increment
    CALL_WRONG_CLASS = "call_wrong_class"  # an itemized call charged at another destination class's rate


class SavingsAction(StrEnum):
    """What a savings proposal asks for."""

    DOWNGRADE = "downgrade"  # underused: a smaller commit
    TERMINATE = "terminate"  # idle
    UPGRADE = "upgrade"  # saturated: spend before users feel it
    FEWER_CHANNELS = "fewer_channels"  # a voice trunk's busy hour needs fewer channels at the target grade of service
    MORE_CHANNELS = "more_channels"  # a voice trunk blocks calls: more channels for the target grade of service


# --- alerting (alerting/) -----------------------------------------------------------------------------------------


class AlertRuleKind(StrEnum):
    """What an alert rule in ``alerts.yaml`` looks at (one InfluxQL query per rule)."""

    UTILIZATION = "utilization"  # in/out % of the contracted capacity, sustained, with hysteresis
    ERROR_RATE = "error_rate"  # errors/discards per second, sustained, with hysteresis
    LINE_DOWN = "line_down"  # oper down while admin up for N consecutive polls (every member of the line)
    MEMBER_DOWN = "member_down"  # one member of a multi-member line down, the others carry the traffic
    DEVICE_UNREACHABLE = "device_unreachable"  # collector_poll ok=0 for N consecutive polls
    NO_DATA = "no_data"  # the collector stopped writing for a line (or a device)
    CHANNEL_UTILIZATION = "channel_utilization"  # busy channels % of a voice trunk's contracted channels, sustained
    BLOCKED_CALLS = "blocked_calls"  # all-circuits-busy calls of a voice trunk per hour above a threshold
    PREMIUM_DESTINATION = "premium_destination"  # toll fraud: calls to premium or high-risk destinations
    AFTER_HOURS_INTERNATIONAL = "after_hours_international"  # toll fraud: international calls outside business hours
    COST_SPIKE = "cost_spike"  # toll fraud: a trunk's call cost per hour above N x its baseline
    FORECAST_CROSSING = "forecast_crossing"  # the line's forecast busy-hour utilization crosses N % within D days
    ANOMALY = "anomaly"  # traffic departs from its hour-of-week baseline by more than k MADs, sustained


class AlertState(StrEnum):
    """Life of one alert (rule × line or device). ``inactive``: a pending condition cleared before it fired."""

    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    INACTIVE = "inactive"


class AlertScope(StrEnum):
    """What an alert is about: a line (``line_traffic``) or a device (``collector_poll``)."""

    LINE = "line"
    DEVICE = "device"


class Language(StrEnum):
    """Language of what people read: alert notifications per receiver (alerts.yaml ``language``)."""

    EN = "en"
    KO = "ko"


class SmtpTls(StrEnum):
    """How an email receiver secures its SMTP connection."""

    STARTTLS = "starttls"  # plain connect, then STARTTLS (port 587)
    IMPLICIT = "implicit"  # TLS from the first byte (port 465)
    NONE = "none"  # no TLS: only for a local relay

    @property
    def default_port(self) -> int:
        return {SmtpTls.STARTTLS: 587, SmtpTls.IMPLICIT: 465, SmtpTls.NONE: 25}[self]


class DeliveryStatus(StrEnum):
    """A notification in the alerting outbox."""

    PENDING = "pending"  # waiting for its first or next attempt
    DELIVERED = "delivered"
    EXPIRED = "expired"  # retried until ``expire_s`` without success (logged at ERROR)


class MessageKind(StrEnum):
    """Messages the management application sends through its outbox (``web/notify``): each has an editable template
    (``MessageTemplate``) and built-in files ``web/notify/templates/notify/messages/<kind>.<language>.txt``. The
    owning app adds its kinds here."""

    TEST_MESSAGE = "test_message"  # web/notify: "does delivery work?" (template preview, docs/notify.md)
    CARRIER_FAULT_NOTICE = "carrier_fault_notice"  # web/faults: a fault reported to the carrier's NOC
    CARRIER_ESCALATION = "carrier_escalation"  # web/faults: no update from the carrier: the next contact
    ORDER_ASSIGNED = "order_assigned"  # web/orders: a step of an order was assigned to you
    ORDER_DUE = "order_due"  # web/orders: a step of yours is due soon, or overdue
    TERMINATION_NOTICE = "termination_notice"  # web/orders: a line's termination is complete (requester, finance)
    ORDER_ATTENTION = "order_attention"  # web/orders: an order needs you (its acceptance failed)
    INSPECTION_DUE = "inspection_due"  # web/inspections: a periodic inspection is due, or overdue (assignee)
    DISPUTE_NOTICE = "dispute_notice"  # web/findings: a dispute to the carrier's billing contact, evidence attached
    DISPUTE_REMINDER = "dispute_reminder"  # web/findings: the carrier has not answered a dispute for N days
    PAYMENT_DUE = "payment_due"  # web/invoices: an approved or unapproved invoice is due in N days (finance)
    INVOICE_OVERDUE = "invoice_overdue"  # web/invoices: an invoice is past its due date unpaid (finance)
    INTAKE_REPORT = "intake_report"  # web/intake: what became of a collected invoice file (report_to)


class FlowDirection(StrEnum):
    """Direction of a flow relative to a line: ``in`` arrives from the carrier, ``out`` leaves towards it."""

    IN = "in"
    OUT = "out"


class FlowApp(StrEnum):
    """Protocol/port classes of the flow summaries (``flow_proto.app``); the port map is in collector/flows/apps.py."""

    WEB = "web"
    DNS = "dns"
    MAIL = "mail"
    VOICE = "voice"
    VPN = "vpn"
    REMOTE_ACCESS = "remote_access"
    FILE_TRANSFER = "file_transfer"
    DATABASE = "database"
    DIRECTORY = "directory"
    NETWORK_MGMT = "network_mgmt"
    ICMP = "icmp"
    OTHER_TCP = "other_tcp"
    OTHER_UDP = "other_udp"
    OTHER = "other"


class ExitCode(IntEnum):
    """Exit status of the ``linewatch`` commands (documented per command in docs/*.md)."""

    OK = 0
    RUNTIME_ERROR = 1  # InfluxDB or another runtime failure
    CONFIG_ERROR = 2  # a configuration file is invalid (check-config names each problem)
    INPUT_REJECTED = 3  # the command ran, but rejected some of its input (e.g. an invoice file): look at it
    INTERRUPTED = 130  # stopped by Ctrl-C (SIGINT): 128 + 2, the shells' convention


# --- management application (web/) -------------------------------------------------------------------------------


class ContactRole(StrEnum):
    """What a carrier contact is called for."""

    NOC = "noc"  # faults, outages, maintenance windows
    BILLING = "billing"  # invoices, disputes, payments
    ESCALATION = "escalation"  # when the NOC does not answer (with an escalation level)
    SALES = "sales"  # orders, upgrades, renewals


class LineMemberRole(StrEnum):
    """How an interface carries its line: LAG members share the load; primary/backup carry it in turn."""

    MEMBER = "member"  # a LAG member or one of several ports billed as one circuit
    PRIMARY = "primary"
    BACKUP = "backup"


class ChangeAction(StrEnum):
    """What a change-log row of the management application records."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Role(StrEnum):
    """The management application's roles (Django groups of the same name), least to most privileged."""

    VIEWER = "viewer"  # read everything but secrets
    NOC = "noc"  # viewer + change a line's status
    ENGINEER = "engineer"  # lines, members, devices, sites
    FINANCE = "finance"  # carriers, billing accounts, contracts, cost centres
    ADMIN = "admin"  # everything, users and roles included


class TokenScope(StrEnum):
    """What an API token may do: read only, or whatever its user's role allows."""

    READ = "read"  # GET, HEAD, OPTIONS
    WRITE = "write"  # also POST, PUT, PATCH, DELETE (within the user's permissions)


class InventorySource(StrEnum):
    """Where the collector, alert evaluator, billing ETL and flow collector read the inventory
    (``inventory.source`` in linewatch.yaml)."""

    FILES = "files"  # lines.yaml (inventory_path)
    HTTP = "http"  # the management application's /api/inventory/ (inventory.url)


class LoginEventKind(StrEnum):
    """What a row of the management application's login log records (web/accounts)."""

    LOGIN = "login"
    LOGOUT = "logout"
    LOGIN_FAILED = "login_failed"
    LOCKED_OUT = "locked_out"


class LdapGroupType(StrEnum):
    """How the directory holds group membership (``web.ldap.group_type``)."""

    GROUP_OF_NAMES = "group_of_names"  # OpenLDAP groupOfNames: member = user DN
    GROUP_OF_UNIQUE_NAMES = "group_of_unique_names"  # uniqueMember = user DN
    ACTIVE_DIRECTORY = "active_directory"  # AD groups, nested membership resolved


class DocumentKind(StrEnum):
    """What a document attached to a carrier, contract or line is (web/inventory Document)."""

    CONTRACT = "contract"  # the signed contract, its annexes and amendments
    ACCEPTANCE_REPORT = "acceptance_report"  # the final acceptance test of a new line (brief §2.1 최종 검수)
    QUOTE = "quote"
    INVOICE = "invoice"
    ORDER_FORM = "order_form"  # order, change request or termination request (brief §2.1-2.3)
    OTHER = "other"


class DocumentFileType(StrEnum):
    """File types a document may have (``web.documents.allowed_types``), recognised from the content, not from the
    client's Content-Type; the file name's extension must be one of the type's."""

    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    XLSX = "xlsx"
    DOCX = "docx"
    CSV = "csv"
    TXT = "txt"
    EML = "eml"
    MSG = "msg"

    @property
    def extensions(self) -> tuple[str, ...]:
        """File name extensions of the type, lower case with the dot; the first is the usual one."""
        return _DOCUMENT_FILE_EXTENSIONS.get(self, (f".{self.value}",))

    @property
    def media_type(self) -> str:
        """The Content-Type a download is sent with (text types get their charset added)."""
        return _DOCUMENT_MEDIA_TYPES[self]


_DOCUMENT_FILE_EXTENSIONS = {DocumentFileType.JPEG: (".jpg", ".jpeg")}
_DOCUMENT_MEDIA_TYPES = {
    DocumentFileType.PDF: "application/pdf",
    DocumentFileType.PNG: "image/png",
    DocumentFileType.JPEG: "image/jpeg",
    DocumentFileType.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DocumentFileType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentFileType.CSV: "text/csv",
    DocumentFileType.TXT: "text/plain",
    DocumentFileType.EML: "message/rfc822",
    DocumentFileType.MSG: "application/vnd.ms-outlook",
}


# --- fault tickets (web/faults, docs/faults.md) ------------------------------------------------------------------


class FaultKind(StrEnum):
    """What a fault ticket is about (brief §6.2 장애 신고: type)."""

    LINE_DOWN = "line_down"
    NO_DATA = "no_data"
    SATURATION = "saturation"
    DEGRADED = "degraded"  # errors, loss, latency: up but bad
    OTHER = "other"


class FaultCause(StrEnum):
    """Root-cause category recorded when a ticket is resolved (prevention, brief §6.3)."""

    CARRIER = "carrier"
    CPE = "cpe"  # our router or the carrier's box on our site
    POWER = "power"
    CONFIGURATION = "configuration"
    CAPACITY = "capacity"
    CABLING = "cabling"
    THIRD_PARTY = "third_party"  # construction work, another provider
    UNKNOWN = "unknown"


class TicketState(StrEnum):
    """Life of a fault ticket (django-fsm transitions in web/faults/models.py, role table in docs/faults.md)."""

    OPEN = "open"
    CARRIER_NOTIFIED = "carrier_notified"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def active(self) -> bool:
        """Still being worked (an alert's resolution resolves it; the line page lists it)."""
        return self in (TicketState.OPEN, TicketState.CARRIER_NOTIFIED, TicketState.IN_PROGRESS)


class TicketEventKind(StrEnum):
    """One entry of a ticket's timeline (append-only)."""

    OPENED = "opened"
    ALERT_FIRED = "alert_fired"
    ALERT_RESOLVED = "alert_resolved"
    COMMENT = "comment"
    STATE_CHANGE = "state_change"
    CARRIER_NOTIFIED = "carrier_notified"
    ESCALATED = "escalated"
    CARRIER_ANSWER = "carrier_answer"
    SLA_CLAIM = "sla_claim"


class SlaClaimState(StrEnum):
    """An SLA-credit claim for finance (web/faults SlaClaim)."""

    OPEN = "open"
    CLAIMED = "claimed"  # sent to the carrier
    CREDITED = "credited"  # the credit is on an invoice
    REJECTED = "rejected"


class OrderKind(StrEnum):
    """What an order of the management application asks for (web/orders, brief §2)."""

    NEW_LINE = "new_line"  # 개통: request, approval, carrier order, installation, final acceptance
    CHANGE = "change"  # 변경: bandwidth, move or carrier, from an effective moment
    TERMINATION = "termination"  # 해지: notice check, carrier confirmation, equipment recovery, completion


class ChangeKind(StrEnum):
    """What a change order changes."""

    BANDWIDTH_UP = "bandwidth_up"
    BANDWIDTH_DOWN = "bandwidth_down"
    MOVE = "move"  # another site (and port)
    CARRIER_CHANGE = "carrier_change"  # another carrier (and circuit)


class OrderState(StrEnum):
    """States of an order's state machine (web/orders/workflow.py says which kind uses which, and the moves)."""

    REQUESTED = "requested"
    # new line
    APPROVED = "approved"
    ORDERED = "ordered"
    INSTALLED = "installed"
    IN_ACCEPTANCE = "in_acceptance"
    ACCEPTANCE_FAILED = "acceptance_failed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    # change
    AGREED = "agreed"
    SCHEDULED = "scheduled"
    APPLIED = "applied"
    VERIFIED = "verified"
    # termination
    NOTICE_CHECKED = "notice_checked"
    CARRIER_CONFIRMED = "carrier_confirmed"
    DEPROVISIONING = "deprovisioning"
    EQUIPMENT_RECOVERED = "equipment_recovered"
    COMPLETED = "completed"
    # every kind
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (OrderState.ACCEPTED, OrderState.REJECTED, OrderState.VERIFIED, OrderState.COMPLETED,
                        OrderState.CANCELLED)


class OrderEventKind(StrEnum):
    """A row of an order's history (append-only)."""

    TRANSITION = "transition"  # a move of the state machine
    COMMENT = "comment"
    ASSIGNMENT = "assignment"  # a step's assignee or due date set
    ATTACHMENT = "attachment"
    ACCEPTANCE = "acceptance"  # an acceptance evaluation (figures, failures)
    VERIFICATION = "verification"  # a change verification (figures, failures)


# --- periodic inspections (web/inspections, docs/inspections.md) ------------------------------------------------


class InspectionState(StrEnum):
    """A periodic inspection (정기 점검): due until performed, overdue after its due day."""

    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"


class InspectionOutcome(StrEnum):
    """The result of one checklist item of an inspection."""

    OK = "ok"
    NOT_OK = "not_ok"
    NOT_APPLICABLE = "n_a"


class InspectionRecurrence(StrEnum):
    """How an inspection plan repeats: every N days, or on one day of every month (day 31: the month's last)."""

    EVERY_N_DAYS = "every_n_days"
    MONTHLY_DAY = "monthly_day"


# --- final acceptance and change verification (web/orders/acceptance.py, verification.py, docs/acceptance.md) ----


class AcceptanceFinding(StrEnum):
    """What a measured check found (``failure_codes`` / ``note_codes``): the web translates each with its figures."""

    NO_DATA = "no_data"  # not one poll of the line in the window
    DOWNTIME = "downtime"  # down (or without data) on some polls
    ERRORS = "errors"  # an error rate above max_errors_ps
    NO_TRAFFIC = "no_traffic"  # too few traffic buckets carrying min_mean_bps
    PORT_SPEED = "port_speed"  # a member's port is slower than the new capacity
    NOT_YET_OBSERVED = "not_yet_observed"  # traffic has not exceeded the old capacity yet (the window goes on)
    NOT_EXCEEDED = "not_exceeded"  # the window ended without traffic above the old capacity (passed, noted)


# -- the finance workflow (issue 12: web/invoices, web/findings, web/credits, web/intake, web/budgets) ----------------


class FindingState(StrEnum):
    """An audit finding's triage (web/findings): new → accepted, or new → disputed → resolved."""

    NEW = "new"
    ACCEPTED = "accepted"  # the charge is right (with a reason), or a suppression rule says so
    DISPUTED = "disputed"  # part of an open dispute
    RESOLVED = "resolved"  # its dispute ended (credited in full, in part, or rejected)


class DisputeState(StrEnum):
    """A dispute with a carrier (web/findings Dispute)."""

    DRAFT = "draft"  # amount and findings chosen, evidence pack not sent yet
    SENT = "sent"  # mailed to the carrier's billing contact (through the outbox)
    ANSWERED = "answered"  # the carrier answered (reference recorded), no credit yet
    RESOLVED = "resolved"  # closed with an outcome (DisputeOutcome) and the recovered amount


class DisputeOutcome(StrEnum):
    """How a resolved dispute ended."""

    CREDITED_IN_FULL = "credited_in_full"
    CREDITED_IN_PART = "credited_in_part"
    REJECTED = "rejected"


class DisputeEventKind(StrEnum):
    """What a dispute's timeline records (web/findings DisputeEvent)."""

    TRANSITION = "transition"  # a state move (opened, sent, answered, resolved)
    REMINDER = "reminder"  # a reminder queued to the carrier (one per round)
    NOTE = "note"  # a remark of finance


class InvoiceState(StrEnum):
    """An invoice's way to payment (web/invoices, brief §4.3)."""

    RECEIVED = "received"  # imported
    AUDITED = "audited"  # its period audited; its findings known
    APPROVED = "approved"  # by finance, disputed amounts withheld or not
    SCHEDULED = "scheduled"  # a payment date on or before the due date
    PAID = "paid"  # date and reference


class CreditMatchState(StrEnum):
    """A credit or adjustment line proposed as the answer to an open dispute (web/credits)."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"  # closes the dispute with the recovered amount
    REJECTED = "rejected"  # not this dispute's credit


class IntakeSourceKind(StrEnum):
    """Where an invoice file came from (web/intake)."""

    FOLDER = "folder"
    IMAP = "imap"
    UPLOAD = "upload"


class IntakeOutcome(StrEnum):
    """What became of one collected file (web/intake)."""

    IMPORTED = "imported"  # every row imported
    QUARANTINED = "quarantined"  # imported, some rows quarantined (named with their reason)
    DUPLICATE = "duplicate"  # the same file (sha256) or message (Message-ID) was collected before
    REJECTED = "rejected"  # not an invoice of a known carrier, unreadable, or a scanned PDF: the reason says which
    ERROR = "error"  # the import failed for a reason of ours (retried on the next run)


class BudgetScope(StrEnum):
    """What a budget is for (web/budgets)."""

    DEPARTMENT = "department"
    COST_CENTRE = "cost_centre"


# -- voice trunks (issue 13: collector/voice, linewatch/voice, billing_etl voice rules, web/voice) ------------------


class CdrFormat(StrEnum):
    """Call detail record layouts the CDR collector reads (voice.yaml ``sources[].format``; docs/cdr.md)."""

    ASTERISK = "asterisk"  # cdr_csv Master.csv, the documented column order
    FREESWITCH = "freeswitch"  # mod_cdr_csv, the default template
    KAMAILIO = "kamailio"  # acc dialog CDRs (cdr_log / db_flatstore lines of key=value pairs)
    CSV = "csv"  # a configurable CSV layout (voice.yaml ``layouts``), also carriers' itemized call records


class CallDirection(StrEnum):
    """Which way a call went, from the company's side of the trunk."""

    INBOUND = "inbound"  # from the carrier to an extension
    OUTBOUND = "outbound"  # from an extension out through the carrier
    INTERNAL = "internal"  # extension to extension (not billed; takes no trunk channel unless it hairpins)


class DestinationClass(StrEnum):
    """Where a called number goes (voice.yaml ``numbering.classes``: prefixes of E.164 numbers)."""

    LOCAL = "local"
    NATIONAL = "national"
    MOBILE = "mobile"
    INTERNATIONAL = "international"
    PREMIUM = "premium"  # premium-rate and high-cost services: a toll-fraud target
    EMERGENCY = "emergency"
    TOLL_FREE = "toll_free"
    UNKNOWN = "unknown"  # no class prefix matched (rated by the plan's default, flagged)


class CallOutcome(StrEnum):
    """How a call attempt ended (from the SIP final code, the Q.850 cause or the PBX's disposition)."""

    ANSWERED = "answered"
    BLOCKED = "blocked"  # all circuits busy: SIP 503 or 486 from the carrier side, Q.850 cause 34 (or 44/47)
    BUSY = "busy"  # the called party busy (SIP 486/600 towards an extension, Q.850 17)
    NO_ANSWER = "no_answer"  # rang out or cancelled (SIP 480/487, Q.850 18/19)
    FAILED = "failed"  # any other failure (4xx/5xx/6xx, congestion)

    @property
    def attempt_failed(self) -> bool:
        return self is not CallOutcome.ANSWERED


class LiveSourceKind(StrEnum):
    """Where the CDR collector reads live concurrency every cycle (voice.yaml ``live``)."""

    KAMAILIO_JSONRPC = "kamailio_jsonrpc"  # dlg.stats_active over HTTP (jsonrpcs + xhttp)


# --- trends, forecasts, anomalies, reports (linewatch/trends, billing_etl/trends.py, web/reports) -----------------


class ForecastMethod(StrEnum):
    """How a line's daily busy-hour series is projected (docs/trends.md; the backtest in bench chose the default)."""

    HOLT_WINTERS = "holt_winters"  # statsmodels' exponential smoothing, additive trend, weekly seasonality
    ROBUST_SEASONAL = "robust_seasonal"  # a robust (Theil-Sen) trend times a weekday profile (docs/forecast.md)
    LINEAR = "linear"  # least-squares straight line (the baseline LibreNMS and predict_linear offer)


class AnomalyDirection(StrEnum):
    """Which side of the hour-of-week baseline the traffic left."""

    DROP = "drop"  # below: often the first sign of a fault
    SURGE = "surge"  # above: a 3 am surge is worth a look


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


class ReportPeriodKind(StrEnum):
    """A report's period: ``2026-11`` (month) or ``2026-W47`` (ISO week)."""

    MONTH = "month"
    WEEK = "week"


class ReportBlockKind(StrEnum):
    """The building blocks report templates are assembled from."""

    TABLE = "table"
    CHART = "chart"  # an SVG drawn with matplotlib
    FIGURE = "figure"  # one key figure with its label (and change against the previous period)
    TEXT = "text"


class ReportDeliveryState(StrEnum):
    """A scheduled report's delivery for one period (one durable row per schedule and period)."""

    RENDERED = "rendered"  # the files are kept; the outbox message is queued in the same transaction
    SENT = "sent"  # the outbox delivered it
    FAILED = "failed"  # rendering failed: the reason is kept, the next run retries
