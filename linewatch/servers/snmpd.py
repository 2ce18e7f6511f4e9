"""Launch a private net-snmp ``snmpd`` (Debian 12: net-snmp 5.9.3) on a loopback UDP port.

Everything lives under ``work_dir``: the generated ``snmpd.conf``, the persistent directory (``persist/``,
where snmpd keeps engine boots and localized USM keys), the client-side config the
:meth:`SnmpdServer.snmpget` helper uses (``client/``) and ``snmpd.log``. snmpd runs as ``snmpd -f -Lo -C -c
snmpd.conf -I -smux`` with its output appended to ``snmpd.log``: ``-C`` ignores /etc/snmp entirely, so a
system snmpd on port 161 and its config neither help nor collide; ``-I -smux`` drops the SMUX module, which
would otherwise listen on TCP 0.0.0.0:199. The only listener is ``udp:127.0.0.1:PORT``; the community is
read-only and accepted from 127.0.0.1 only; each SNMPv3 user gets ``createUser`` and ``rouser USER
authpriv``; sysName and sysLocation are set. ``mibs :`` keeps snmpd and snmpget from loading (and
complaining about) MIB files: everything is numeric.

SNMPv3 protocols of Debian 12's net-snmp 5.9.3 (checked with ``snmpget -h`` and a real snmpd; all work as
root):

* auth: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512 (the ``linewatch.choices.SnmpAuthProtocol`` values,
  verbatim).
* priv: DES, AES (= AES-128), AES-192, AES-256. net-snmp's AES-192/AES-256 extend a short localized key
  the Blumenthal way (draft-blumenthal-aes-usm-04 = pysnmp's ``USM_PRIV_CFB192/256_AES_BLUMENTHAL``); the
  ``AES-192-C``/``AES-256-C`` variants use the Reeder/Cisco extension (pysnmp's ``USM_PRIV_CFB192/256_AES``).
  The two only differ when the auth digest is shorter than the priv key (e.g. SHA + AES-256): checked with
  pysnmp 7.1 against this snmpd, SHA/AES-256 answers only to the Blumenthal variant, SHA-256/AES-256 to both.
  linewatch's ``SnmpPrivProtocol`` values map to the plain names: ``AES-128`` -> ``AES``. pysnmp needs the
  ``cryptography`` package for any priv protocol ("Ciphering services not available" without it).
* pass phrases must be at least 8 characters (net-snmp refuses shorter ones).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from linewatch.choices import SnmpAuthProtocol, SnmpPrivProtocol
from linewatch.errors import ServerError
from linewatch.servers.ports import LOOPBACK, free_udp_port
from linewatch.servers.process import LocalServer, ServerProcess, clean_env, find_executable

SYS_UPTIME_OID = "1.3.6.1.2.1.1.3.0"
SYS_NAME_OID = "1.3.6.1.2.1.1.5.0"
SYS_LOCATION_OID = "1.3.6.1.2.1.1.6.0"
MIN_KEY_LENGTH = 8

# net-snmp's spelling of our priv protocols; auth names are identical. "AES" is accepted as an alias of
# AES-128 because that is how net-snmp and most router configs write it.
_NETSNMP_PRIV = {
    SnmpPrivProtocol.DES: "DES",
    SnmpPrivProtocol.AES128: "AES",
    SnmpPrivProtocol.AES192: "AES-192",
    SnmpPrivProtocol.AES256: "AES-256",
}
_PRIV_ALIASES = {"AES": SnmpPrivProtocol.AES128}


@dataclass(frozen=True)
class SnmpV3User:
    """One USM user with authPriv; protocols are validated against ``linewatch.choices``."""

    user: str
    auth_protocol: SnmpAuthProtocol
    auth_key: str
    priv_protocol: SnmpPrivProtocol
    priv_key: str

    @classmethod
    def from_mapping(cls, spec: Mapping[str, str]) -> SnmpV3User:
        """Build from ``{"user", "auth_protocol", "auth_key", "priv_protocol", "priv_key"}``."""
        expected = {"user", "auth_protocol", "auth_key", "priv_protocol", "priv_key"}
        if set(spec) != expected:
            raise ValueError(
                f"SNMPv3 user spec needs exactly the keys {sorted(expected)}; got {sorted(spec)} "
                f"(missing {sorted(expected - set(spec))}, unknown {sorted(set(spec) - expected)})"
            )
        try:
            auth = SnmpAuthProtocol(spec["auth_protocol"])
        except ValueError:
            raise ValueError(
                f"SNMPv3 user {spec['user']!r}: auth_protocol {spec['auth_protocol']!r} is not one of "
                f"{[p.value for p in SnmpAuthProtocol]}"
            ) from None
        priv_name = spec["priv_protocol"]
        try:
            priv = _PRIV_ALIASES.get(priv_name) or SnmpPrivProtocol(priv_name)
        except ValueError:
            raise ValueError(
                f"SNMPv3 user {spec['user']!r}: priv_protocol {priv_name!r} is not one of "
                f"{[p.value for p in SnmpPrivProtocol] + list(_PRIV_ALIASES)}"
            ) from None
        return cls(spec["user"], auth, spec["auth_key"], priv, spec["priv_key"])

    def __post_init__(self) -> None:
        if not self.user or any(c.isspace() for c in self.user):
            raise ValueError(f"SNMPv3 user name {self.user!r} must be non-empty without whitespace")
        for field_name in ("auth_key", "priv_key"):
            key = getattr(self, field_name)
            if len(key) < MIN_KEY_LENGTH or any(c.isspace() for c in key):
                raise ValueError(
                    f"SNMPv3 user {self.user!r}: {field_name} must be at least {MIN_KEY_LENGTH} characters "
                    f"without whitespace (net-snmp refuses shorter pass phrases)"
                )

    @property
    def netsnmp_auth(self) -> str:
        """The ``-a`` / createUser name net-snmp uses."""
        return self.auth_protocol.value

    @property
    def netsnmp_priv(self) -> str:
        """The ``-x`` / createUser name net-snmp uses."""
        return _NETSNMP_PRIV[self.priv_protocol]

    def __repr__(self) -> str:  # keys stay out of logs and test output
        return (
            f"SnmpV3User(user={self.user!r}, auth_protocol={self.auth_protocol.value!r}, "
            f"auth_key='<secret>', priv_protocol={self.priv_protocol.value!r}, priv_key='<secret>')"
        )


class SnmpdServer(LocalServer):
    """A private snmpd on ``udp:127.0.0.1:port``; ``start()`` returns once an snmpget of sysUpTime answers."""

    _not_ready = f"did not answer snmpget {SYS_UPTIME_OID}"
    _poll_s = 0.05

    def __init__(
        self,
        work_dir: Path,
        *,
        port: int | None = None,
        community: str | None = "public",
        v3_users: Iterable[SnmpV3User | Mapping[str, str]] = (),
        sys_name: str = "linewatch-test-agent",
        sys_location: str = "linewatch test lab",
        start_timeout_s: float = 15.0,
        stop_timeout_s: float = 10.0,
    ):
        self.work_dir = Path(work_dir).resolve()
        self.community = community
        self.v3_users: tuple[SnmpV3User, ...] = tuple(
            u if isinstance(u, SnmpV3User) else SnmpV3User.from_mapping(u) for u in v3_users
        )
        names = [u.user for u in self.v3_users]
        if len(set(names)) != len(names):
            raise ValueError(f"SNMPv3 user names must be unique, got {names}")
        if community is None and not self.v3_users:
            raise ValueError(
                "SnmpdServer needs a community or at least one SNMPv3 user, or nobody can query it"
            )
        self.sys_name = sys_name
        self.sys_location = sys_location
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._ports_chosen_by_us = port is None
        self.port = port if port is not None else free_udp_port()
        self.host = LOOPBACK
        self.config_path = self.work_dir / "snmpd.conf"
        self.log_path = self.work_dir / "snmpd.log"
        self.persistent_dir = self.work_dir / "persist"
        self.client_dir = self.work_dir / "client"
        self._process = ServerProcess(name="snmpd", log_path=self.log_path)
        self._snmpd = ""  # the binary, found by start()

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, the agent address net-snmp tools take."""
        return f"{self.host}:{self.port}"

    def user(self, name: str) -> SnmpV3User:
        for candidate in self.v3_users:
            if candidate.user == name:
                return candidate
        raise KeyError(f"no SNMPv3 user {name!r}; configured: {[u.user for u in self.v3_users]}")

    def start(self) -> SnmpdServer:
        """Write the config, start snmpd and wait until it answers an snmpget of sysUpTime; returns self."""
        if self.running:
            return self
        self._snmpd = find_executable("snmpd", debian_package="snmpd")
        find_executable("snmpget", debian_package="snmp")
        self._start_with_port_retry()
        return self

    def snmpget_argv(
        self, oid: str, *, user: str | None = None, timeout_s: float = 1.0, retries: int = 0
    ) -> list[str]:
        """The ``snmpget`` command line asking this agent for ``oid``: v2c with the community, or v3."""
        argv = [
            find_executable("snmpget", debian_package="snmp"),
            "-Oqv",
            "-t",
            str(timeout_s),
            "-r",
            str(retries),
        ]
        if user is None:
            if self.community is None:
                raise ValueError("this agent has no community; pass user=")
            argv += ["-v2c", "-c", self.community]
        else:
            u = self.user(user)
            argv += ["-v3", "-l", "authPriv", "-u", u.user, "-a", u.netsnmp_auth, "-A", u.auth_key,
                     "-x", u.netsnmp_priv, "-X", u.priv_key]  # fmt: skip
        return [*argv, f"udp:{self.address}", oid]

    def snmpget(self, oid: str, *, user: str | None = None, timeout_s: float = 1.0, retries: int = 0) -> str:
        """The value of ``oid`` as snmpget prints it (``-Oqv``, strings quoted).

        Raises ServerError when the agent does not answer or refuses the credentials.
        """
        argv = self.snmpget_argv(oid, user=user, timeout_s=timeout_s, retries=retries)
        self._write_client_config()
        result = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=self._env(self.client_dir),
            timeout=timeout_s * (retries + 1) + 10,
            check=False,
        )
        if result.returncode != 0:
            who = f"user {user}" if user else "community"
            raise ServerError(
                f"snmpget {oid} from udp:{self.address} ({who}) failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return result.stdout.strip()

    def client_env(self) -> dict[str, str]:
        """Environment for running other net-snmp tools (snmpwalk...) against this agent without /etc/snmp."""
        self._write_client_config()
        return self._env(self.client_dir)

    def __repr__(self) -> str:
        return (
            f"SnmpdServer(address={self.address!r}, community={self.community!r}, "
            f"users={[u.user for u in self.v3_users]}, running={self.running})"
        )

    def _env(self, persistent_dir: Path) -> dict[str, str]:
        # SNMPCONFPATH points net-snmp at our own snmp.conf ("mibs :") instead of /etc/snmp and ~/.snmp.
        return clean_env(
            drop_prefixes=("SNMP", "MIBS", "MIBDIRS", "PREFIX"),
            extra={
                "SNMP_PERSISTENT_DIR": str(persistent_dir),
                "SNMPCONFPATH": str(self.client_dir),
                "MIBS": "",
            },
        )

    def _spawn(self) -> None:
        self._write_config()
        self._process.spawn(
            [self._snmpd, "-f", "-Lo", "-C", "-c", str(self.config_path), "-I", "-smux"],
            env=self._env(self.persistent_dir),
            cwd=self.work_dir,
        )

    def _probe(self) -> bool:
        first_user = self.v3_users[0].user if self.community is None else None
        try:
            self.snmpget(SYS_UPTIME_OID, user=first_user, timeout_s=0.3)
        except ServerError:
            return False
        return True

    def _port_taken(self, *, exited: bool, new_log: str) -> bool:
        return exited  # most likely someone took the port between free_udp_port() and snmpd's bind

    def _fresh_ports(self) -> None:
        self.port = free_udp_port()

    def _where(self) -> str:
        return f"snmpd on udp:{self.address} (work dir {self.work_dir})"

    def _write_client_config(self) -> None:
        self.client_dir.mkdir(parents=True, exist_ok=True)
        (self.client_dir / "snmp.conf").write_text("mibs :\n")

    def _write_config(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.persistent_dir.mkdir(parents=True, exist_ok=True)
        self._write_client_config()
        lines = [
            "# Generated by linewatch.servers.snmpd; rewritten on every start.",
            "[snmp] mibs :",
            f"agentaddress udp:{self.address}",
            f"sysName {self.sys_name}",
            f"sysLocation {self.sys_location}",
            "sysServices 72",
        ]
        if self.community is not None:
            lines.append(f"rocommunity {self.community} {LOOPBACK}")
        for u in self.v3_users:
            lines.append(f"createUser {u.user} {u.netsnmp_auth} {u.auth_key} {u.netsnmp_priv} {u.priv_key}")
            lines.append(f"rouser {u.user} authpriv")
        self.config_path.write_text("\n".join(lines) + "\n")
