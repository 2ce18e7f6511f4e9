"""Alerting fixtures: crafted line_traffic series in a real influxd, a real SMTP server (aiosmtpd with STARTTLS,
implicit TLS and AUTH), a real HTTP server standing in for the Slack webhook, and an injected clock."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from linewatch.choices import OperStatus
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.inventory import Inventory
from linewatch.servers.ports import free_tcp_port

# 2026-11-25 12:00:00 UTC, a Wednesday; every integration test starts its story here.
T0 = 1_795_608_000
SMTP_USER = "alerts"
SMTP_PASSWORD = "s3cret-smtp-pass"


# -- inventory and data --------------------------------------------------------------------------------------------


def make_inventory(*lines: dict[str, Any]) -> Inventory:
    """An inventory of two devices and the given lines (defaults filled in)."""
    devices = [
        {"name": "r1", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "c"}, "site": "Frankfurt"},
        {"name": "r2", "address": "127.0.0.1", "snmp": {"version": "2c", "community": "c"}, "site": "London"},
    ]
    full = []
    for i, line in enumerate(lines):
        base = {"carrier": "Colt", "circuit_id": f"CIR-{i:04d}", "type": "mpls", "site": "Frankfurt",
                "department": "Operations", "device": "r1", "interface": f"ge-0/0/{i}", "capacity_bps": 100_000_000}
        full.append({**base, **line})
    return Inventory.model_validate({"devices": devices, "lines": full})


def traffic_point(line: str, t_s: int, *, util: float = 10.0, out_util: float | None = None,
                  oper: int = OperStatus.UP, admin: int = OperStatus.UP, errors_ps: float = 0.0,
                  tags: dict[str, str] | None = None, capacity_bps: int = 100_000_000) -> Point:
    """A collector-like point: ``util`` % of ``capacity_bps`` in (``out_util``, default half, out), as the
    ``*_bps`` rates the utilization rule reads and the ``*_util_pct`` the collector stores."""
    out = out_util if out_util is not None else util / 2
    fields: dict[str, float | int] = {"in_util_pct": float(util), "out_util_pct": float(out),
                                      "in_bps": util * capacity_bps / 100, "out_bps": out * capacity_bps / 100,
                                      "capacity_bps": int(capacity_bps),
                                      "oper_status": int(oper), "admin_status": int(admin),
                                      "in_errors_ps": float(errors_ps), "out_errors_ps": 0.0}
    return Point("line_traffic", {"line": line, **(tags or {})}, fields, t_s * 1_000_000_000)


def series(line: str, start_s: int, utils: Sequence[float], *, step_s: int = 60, **kw: Any) -> list[Point]:
    """One point per ``step_s`` from ``start_s`` with the given utilizations."""
    return [traffic_point(line, start_s + i * step_s, util=u, **kw) for i, u in enumerate(utils)]


@dataclass
class Clock:
    now_s: float = float(T0)

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> float:
        self.now_s += seconds
        return self.now_s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def influx(influx_db: tuple[str, str]) -> Iterator[InfluxClient]:
    url, db = influx_db
    client = InfluxClient(InfluxSettings(url=url, database=db, gzip=False))
    try:
        yield client
    finally:
        client.close()


def write(client: InfluxClient, points: Sequence[Point]) -> None:
    client.write(encode_points(points))


# -- TLS material ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost: ``(cert_pem, key_pem)``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# -- SMTP ----------------------------------------------------------------------------------------------------------


@dataclass
class SmtpServer:
    """A running aiosmtpd; ``messages`` are the parsed emails received, ``envelopes`` their recipients."""

    port: int
    mode: str
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)  # as received: headers still RFC 2047-encoded
    controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content)
        self.messages.append(message_from_bytes(envelope.original_content, policy=default_policy))  # type: ignore[arg-type]
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def _authenticator(server: SmtpServer) -> Callable[..., AuthResult]:
    def check(smtp: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode() \
                and auth_data.password == SMTP_PASSWORD.encode():
            server.logins.append(SMTP_USER)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)
    return check


@pytest.fixture
def smtp_factory(tls_cert: tuple[Path, Path]) -> Iterator[Callable[..., SmtpServer]]:
    """Start SMTP servers: ``smtp_factory(mode="plain"|"starttls"|"implicit", port=None)``."""
    started: list[SmtpServer] = []

    def start(mode: str = "plain", port: int | None = None) -> SmtpServer:
        server = SmtpServer(port or free_tcp_port(), mode)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(tls_cert[0]), str(tls_cert[1]))
        kwargs: dict[str, Any] = {}
        if mode == "starttls":
            kwargs = {"tls_context": ctx, "require_starttls": True, "authenticator": _authenticator(server),
                      "auth_required": True, "auth_require_tls": True}
        elif mode == "implicit":
            # aiosmtpd only counts STARTTLS as TLS for AUTH; with implicit TLS the whole session is encrypted.
            kwargs = {"ssl_context": ctx, "authenticator": _authenticator(server), "auth_required": True,
                      "auth_require_tls": False}
        controller = Controller(server, hostname="127.0.0.1", port=server.port, **kwargs)
        controller.start()
        server.controller = controller
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# -- Slack webhook -------------------------------------------------------------------------------------------------


@dataclass
class WebhookServer:
    """A real HTTP server; ``script`` is a list of (status, headers) answers used in order (then 200)."""

    port: int
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/T000/B000/XXXSECRETXXX"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    hook = WebhookServer(free_tcp_port())
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                hook.attempts += 1
                status, headers = hook.script.pop(0) if hook.script else (200, {})
                if status == 200:
                    hook.bodies.append(json.loads(body))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"error")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    hook.server = ThreadingHTTPServer(("127.0.0.1", hook.port), Handler)
    thread = threading.Thread(target=hook.server.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.stop()
