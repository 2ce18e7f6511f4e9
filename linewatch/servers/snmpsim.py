"""Launch snmpsim (``snmpsim-command-responder``) serving recordings of real devices on a loopback UDP port.

The recordings come from the ``snmpsim-data`` package: public ``.snmprec`` walks of real routers and switches
(Cisco IOS, Juniper MX, H3C Comware, HPE ProCurve, Ruijie, ...). Each :class:`Recording` is copied, decompressed,
into a private data folder and served as the community named after it; only the copied files are indexed, so
start-up takes seconds instead of the minute a full ``snmpsim-data`` index takes.

Counters move between polls through snmpsim's ``numeric`` variation module: a :class:`MovingCounter` rewrites
one recorded ``oid|65|value`` line into ``oid|65:numeric|rate=R,initial=V,wrap=1``, so the agent answers
``(V + R × seconds since the agent started) mod max`` (``max`` = 2**32-1 for Counter32, 2**64-1 for Counter64;
note the modulus is max, not max+1, so one wrap reads one octet short: negligible next to any real rate).
sysUpTime moves the same way at 100 ticks per second from its recorded value, so a rate computed from two
reads of counter and sysUpTime in one PDU uses the agent's own clock.

Privileges: snmpsim started as root switches to ``process_user``/``process_group`` (default nobody/nogroup)
right after binding. Everything it touches after that is made for that user *inside a private temporary
folder of ours* (``tempfile.mkdtemp``, 0700, then chowned to the user): ``data/`` (read-only copies of the
recordings) and ``cache/`` (its dbm indexes). Nothing outside that folder changes owner or mode. The Python
it runs on must be readable by that user too: a venv on Debian's own ``/usr/bin/python3`` with
``python3-gdbm`` (a pyenv under /root is not, and fails after the drop with "no dbm clone found"). The venv is
made by ``scripts/ensure-snmpsim.sh`` (run by ``make test``); :func:`find_snmpsim_venv` says where it looks.
The log (``snmpsim.log``) stays in ``work_dir``, which the caller owns.

    with SnmpsimServer(tmp / "sim", [Recording("cisco-c3560", "network/switch/cisco-c3560.snmprec.bz2",
                                               counters=(MovingCounter("1.3.6.1.2.1.31.1.1.1.6.10149", 1e6),))]) as sim:
        sim.snmpget("cisco-c3560", ["1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.31.1.1.1.6.10149"])
"""

from __future__ import annotations

import atexit
import bz2
import grp
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from linewatch.errors import ServerError
from linewatch.servers.account import ServiceAccount
from linewatch.servers.ports import LOOPBACK, free_udp_port
from linewatch.servers.process import LocalServer, ServerProcess, clean_env, find_executable

SYS_UPTIME_OID = "1.3.6.1.2.1.1.3.0"
VENV_ENV_VAR = "LINEWATCH_SNMPSIM_VENV"
# Where scripts/ensure-snmpsim.sh puts the venv: inside the project's .venv when every user can reach it,
# else FALLBACK_VENV (a work tree under a 0700 folder such as /root cannot be read by nobody).
REPO_VENV = Path(__file__).resolve().parents[2] / ".venv" / "snmpsim"
FALLBACK_VENV = Path("/var/tmp/linewatch-snmpsim-venv")
RESPONDER = "snmpsim-command-responder"

COUNTER32_MAX = 2**32 - 1
COUNTER64_MAX = 2**64 - 1
_NUMERIC_TAGS = {"65": COUNTER32_MAX, "70": COUNTER64_MAX, "66": COUNTER32_MAX, "67": COUNTER32_MAX}
# What the collector reads: system (sysUpTime), interfaces (ifTable), ifMIB (ifXTable).
IF_MIB_SUBTREES = ("1.3.6.1.2.1.1", "1.3.6.1.2.1.2", "1.3.6.1.2.1.31")
_COMMUNITY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class MovingCounter:
    """One recorded counter made to move at ``rate_per_s`` (octets per second for an octet counter).

    ``initial``: the value at agent start (default: the recorded one). ``wrap``: wrap at the type's maximum
    (Counter32 wrap); without it the value sticks at the maximum, as snmpsim does by default.
    """

    oid: str
    rate_per_s: float
    initial: int | None = None
    wrap: bool = True

    def __post_init__(self) -> None:
        if not re.fullmatch(r"\d+(\.\d+)+", self.oid):
            raise ValueError(f"MovingCounter oid {self.oid!r} must be dotted numeric without a leading dot")
        if self.rate_per_s < 0:
            raise ValueError(f"MovingCounter {self.oid}: rate_per_s must be >= 0, got {self.rate_per_s}")


@dataclass(frozen=True)
class Recording:
    """A real-device recording from ``snmpsim-data``, served as ``community``.

    ``source``: path under the package's ``data/`` folder (``.snmprec`` or ``.snmprec.bz2``).
    ``counters``: the recorded counters to move (each must be in the recording with a numeric type).
    ``moving_uptime``: sysUpTime advances 100 ticks/s from its recorded value (a recording without sysUpTime
    is served as recorded).
    ``replace``: recorded OIDs whose ``(tag, value)`` is replaced, for a case no recording shows; a test using
    it must say it is a derived recording.
    ``subtrees``: serve only the records under these OIDs (e.g. :data:`IF_MIB_SUBTREES`), so that a walk of
    half a million records that linewatch never reads is not indexed at every start; None serves everything.
    """

    community: str
    source: str
    counters: tuple[MovingCounter, ...] = ()
    moving_uptime: bool = True
    replace: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    subtrees: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not _COMMUNITY.match(self.community):
            raise ValueError(
                f"Recording community {self.community!r} must be letters, digits, '.', '_' or '-' "
                "(it becomes the data file's name)"
            )
        if not (self.source.endswith(".snmprec") or self.source.endswith(".snmprec.bz2")):
            raise ValueError(f"Recording {self.community}: source {self.source!r} is not a .snmprec(.bz2) file")
        oids = [c.oid for c in self.counters]
        if len(set(oids)) != len(oids):
            raise ValueError(f"Recording {self.community}: a counter OID is listed twice: {sorted(oids)}")

    def rate_of(self, oid: str) -> float:
        """The configured rate of a moving counter (per second)."""
        for counter in self.counters:
            if counter.oid == oid:
                return counter.rate_per_s
        raise KeyError(f"{oid} is not a moving counter of recording {self.community}")


def render_recording(recording: Recording, source_lines: Iterable[str], *, source_name: str) -> list[str]:
    """The ``.snmprec`` lines snmpsim serves for ``recording``: the source lines with the moving counters and
    replaced values rewritten. Raises ValueError naming the file and OID when one is missing or not numeric."""
    moving = {c.oid: c for c in recording.counters}
    replace = dict(recording.replace)
    prefixes = None if recording.subtrees is None else tuple(t.strip(".") + "." for t in recording.subtrees)
    seen: set[str] = set()
    out: list[str] = []
    for number, raw in enumerate(source_lines, start=1):
        line = raw.rstrip("\r\n")
        oid, sep, rest = line.partition("|")
        if not sep:
            out.append(line)
            continue
        if prefixes is not None and not oid.startswith(prefixes):
            continue
        tag, _, value = rest.partition("|")
        if oid in replace:
            new_tag, new_value = replace[oid]
            line = f"{oid}|{new_tag}|{new_value}"
            seen.add(oid)
        elif oid in moving or (recording.moving_uptime and oid == SYS_UPTIME_OID and tag == "67"):
            if tag not in _NUMERIC_TAGS or not value.strip().isdigit():
                raise ValueError(
                    f"{source_name}:{number}: {oid} has tag {tag!r} value {value!r}: snmpsim's numeric variation "
                    "needs a recorded Counter32/Counter64/Gauge32/TimeTicks"
                )
            if oid == SYS_UPTIME_OID and oid not in moving:
                line = f"{oid}|67:numeric|rate=100,initial={value.strip()}"
            else:
                c = moving[oid]
                initial = value.strip() if c.initial is None else str(c.initial)
                if c.initial is not None and not 0 <= c.initial <= _NUMERIC_TAGS[tag]:
                    raise ValueError(f"{source_name}: {oid}: initial {c.initial} does not fit tag {tag}")
                options = f"rate={c.rate_per_s!r},initial={initial}" + (",wrap=1" if c.wrap else "")
                line = f"{oid}|{tag}:numeric|{options}"
            seen.add(oid)
        out.append(line)
    missing = sorted((set(moving) | set(replace)) - seen)
    if missing:
        raise ValueError(f"{source_name}: recording has no {', '.join(missing)} (asked for by {recording.community})")
    return out


def find_snmpsim_venv() -> Path:
    """The venv holding snmpsim and snmpsim-data: ``$LINEWATCH_SNMPSIM_VENV``, else ``.venv/snmpsim`` in the
    project, else ``/var/tmp/linewatch-snmpsim-venv``. Raises ServerError saying how to make one."""
    env = os.environ.get(VENV_ENV_VAR)
    candidates = [Path(env)] if env else [REPO_VENV, FALLBACK_VENV]
    for venv in candidates:
        if (venv / "bin" / RESPONDER).is_file():
            return venv
    raise ServerError(
        f"no snmpsim venv found (looked for bin/{RESPONDER} in {', '.join(map(str, candidates))}): run "
        "`scripts/ensure-snmpsim.sh` (`make test` does it), which builds one on Debian's python3 with "
        f"python3-gdbm, or point {VENV_ENV_VAR} at one"
    )


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        raise ServerError(f"snmpsim venv {venv} has no lib/python3*/site-packages")
    return found[-1]


class SnmpsimServer(LocalServer):
    """snmpsim on ``udp:127.0.0.1:port`` serving ``recordings``; ``start()`` returns once every community
    answers an snmpget of sysUpTime (all indexes built)."""

    _not_ready = "did not answer on every community"

    def __init__(
        self,
        work_dir: Path,
        recordings: Sequence[Recording],
        *,
        venv: Path | None = None,
        port: int | None = None,
        process_user: str = "nobody",
        process_group: str = "nogroup",
        start_timeout_s: float = 180.0,
        stop_timeout_s: float = 10.0,
    ):
        if not recordings:
            raise ValueError("SnmpsimServer needs at least one Recording")
        names = [r.community for r in recordings]
        if len(set(names)) != len(names):
            raise ValueError(f"Recording communities must be unique, got {names}")
        self.work_dir = Path(work_dir).resolve()
        self.recordings = {r.community: r for r in recordings}
        self._venv = venv
        self.process_user = process_user
        self.process_group = process_group
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._ports_chosen_by_us = port is None
        self.port = port if port is not None else free_udp_port()
        self.host = LOOPBACK
        self.log_path = self.work_dir / "snmpsim.log"
        self.client_dir = self.work_dir / "client"
        self.runtime_dir: Path | None = None  # private temp folder (data/, cache/), owned by process_user
        self.started_at_s: float | None = None  # wall clock just before the agent was spawned
        self.startup_s: float | None = None  # spawn until every community answered
        self._process = ServerProcess(name="snmpsim", log_path=self.log_path)
        self._responder = Path(RESPONDER)  # in the venv, found by start()

    # -- properties ------------------------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def drops_privileges(self) -> bool:
        return os.geteuid() == 0

    @property
    def venv(self) -> Path:
        if self._venv is None:
            self._venv = find_snmpsim_venv()
        return self._venv

    def recording(self, community: str) -> Recording:
        try:
            return self.recordings[community]
        except KeyError:
            raise KeyError(f"no recording {community!r}; served: {sorted(self.recordings)}") from None

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> SnmpsimServer:
        if self.running:
            return self
        self._responder = self.venv / "bin" / RESPONDER
        find_executable("snmpget", debian_package="snmp")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_runtime_dir()
        try:
            self._start_with_port_retry()
        except BaseException:
            self._process.stop(timeout_s=self.stop_timeout_s)
            self._remove_runtime_dir()
            raise
        assert self.started_at_s is not None
        self.startup_s = time.time() - self.started_at_s
        return self

    def stop(self) -> None:
        """SIGTERM, wait, SIGKILL if needed; then remove the private data and cache folder."""
        super().stop()
        self._remove_runtime_dir()

    def __repr__(self) -> str:
        return f"SnmpsimServer(address={self.address!r}, recordings={sorted(self.recordings)}, running={self.running})"

    # -- net-snmp client helpers -------------------------------------------------------------------------------------
    def snmpget(self, community: str, oids: Sequence[str], *, timeout_s: float = 2.0, retries: int = 1) -> dict[str, str]:
        """net-snmp's ``snmpget`` of ``oids`` in ONE request: ``{oid: value as printed}`` (numbers bare, timeticks
        as raw ticks, strings quoted or as hex). Raises ServerError when the agent does not answer."""
        self.recording(community)
        argv = [find_executable("snmpget", debian_package="snmp"), "-v2c", "-c", community, "-On", "-Oq", "-Ot",
                "-Oe", "-t", str(timeout_s), "-r", str(retries), f"udp:{self.address}", *oids]  # fmt: skip
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                env=self.client_env(), timeout=timeout_s * (retries + 1) + 15, check=False)
        if result.returncode != 0:
            raise ServerError(
                f"snmpget {' '.join(oids)} from udp:{self.address} (community {community}) failed "
                f"(exit {result.returncode}): {(result.stderr or result.stdout).strip()}"
            )
        values: dict[str, str] = {}
        for line in result.stdout.splitlines():
            oid, _, value = line.partition(" ")
            values[oid.lstrip(".")] = value.strip()
        return values

    def snmpget_ints(self, community: str, oids: Sequence[str], *, timeout_s: float = 2.0,
                     retries: int = 1) -> dict[str, int]:
        """:meth:`snmpget` for counters, gauges and timeticks; raises ServerError when a value is not a number."""
        values = self.snmpget(community, oids, timeout_s=timeout_s, retries=retries)
        out: dict[str, int] = {}
        for oid in oids:
            text = values.get(oid, "")
            if not text.isdigit():
                raise ServerError(f"snmpget {oid} (community {community}) gave {text!r}, not a number")
            out[oid] = int(text)
        return out

    def client_env(self) -> dict[str, str]:
        """Environment for net-snmp tools against this agent: our own snmp.conf ("mibs :"), nothing from /etc/snmp."""
        self.client_dir.mkdir(parents=True, exist_ok=True)
        (self.client_dir / "snmp.conf").write_text("mibs :\n")
        return clean_env(drop_prefixes=("SNMP", "MIBS", "MIBDIRS", "PREFIX"),
                         extra={"SNMPCONFPATH": str(self.client_dir), "SNMP_PERSISTENT_DIR": str(self.client_dir),
                                "MIBS": ""})  # fmt: skip

    # -- internals ----------------------------------------------------------------------------------------------------
    def _account(self) -> ServiceAccount | None:
        """Who snmpsim runs as after binding (``process_user`` with ``process_group``), when it drops privileges."""
        if not self.drops_privileges:
            return None
        try:
            user, group = pwd.getpwnam(self.process_user), grp.getgrnam(self.process_group)
        except KeyError as exc:
            raise ServerError(
                f"snmpsim: process_user {self.process_user!r} / process_group {self.process_group!r} unknown: {exc}"
            ) from None
        return ServiceAccount(user.pw_name, user.pw_uid, group.gr_gid)

    def _prepare_runtime_dir(self) -> None:
        owner = self._account()
        if owner is not None:
            python = self.venv / "bin" / "python"
            for target in (python, _site_packages(self.venv) / "snmpsim" / "__init__.py",
                           Path(os.path.realpath(python))):  # fmt: skip
                blocked = owner.cannot_read(target)
                if blocked:
                    raise ServerError(
                        f"snmpsim drops privileges to {self.process_user}, who cannot read its venv {self.venv}: "
                        f"{blocked}. Build the venv where every user can read it (scripts/ensure-snmpsim.sh "
                        f"{FALLBACK_VENV}) and set {VENV_ENV_VAR}; linewatch never loosens system permissions"
                    )
        self._remove_runtime_dir()
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="linewatch-snmpsim-"))  # 0700, ours
        atexit.register(shutil.rmtree, self.runtime_dir, True)  # also gone when the test session crashes
        try:
            self._fill_runtime_dir(self.runtime_dir, owner)
        except BaseException:
            self._remove_runtime_dir()
            raise

    def _fill_runtime_dir(self, runtime: Path, owner: ServiceAccount | None) -> None:
        data, cache = runtime / "data", runtime / "cache"
        data.mkdir()
        cache.mkdir()
        source_root = _site_packages(self.venv) / "snmpsim_data" / "data"
        for rec in self.recordings.values():
            source = source_root / rec.source
            if not source.is_file():
                raise ServerError(f"recording {rec.community}: {source} not found in snmpsim-data ({source_root})")
            opener = bz2.open if source.suffix == ".bz2" else open
            with opener(source, "rt", encoding="utf-8", errors="surrogateescape") as fh:  # type: ignore[operator]
                try:
                    lines = render_recording(rec, fh, source_name=str(source))
                except ValueError as exc:
                    raise ServerError(str(exc)) from None
            target = data / f"{rec.community}.snmprec"
            target.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogateescape")
            target.chmod(0o400)
        data.chmod(0o500)
        cache.chmod(0o700)
        if owner is not None:
            for path in (runtime, data, cache, *data.iterdir()):
                os.chown(path, owner.uid, owner.gid)

    def _remove_runtime_dir(self) -> None:
        if self.runtime_dir is not None:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None

    def _spawn(self) -> None:
        assert self.runtime_dir is not None
        argv = [
            str(self._responder),
            f"--data-dir={self.runtime_dir / 'data'}",
            f"--cache-dir={self.runtime_dir / 'cache'}",
            f"--variation-modules-dir={_site_packages(self.venv) / 'snmpsim' / 'variation'}",
            f"--agent-udpv4-endpoint={self.address}",
            "--log-level=info",
        ]
        if self.drops_privileges:
            argv += [f"--process-user={self.process_user}", f"--process-group={self.process_group}"]
        self.started_at_s = time.time()
        self._process.spawn(argv, env=clean_env(drop_prefixes=("SNMPSIM", "PYTHON")), cwd=self.runtime_dir)

    def _wait_ready(self) -> bool:
        # Ready when every community has answered once (its index is built): no pause between two that answer.
        deadline = time.monotonic() + self.start_timeout_s
        pending = list(self.recordings)
        while time.monotonic() < deadline:
            if not self._process.running:
                return False
            try:
                self.snmpget(pending[0], [SYS_UPTIME_OID], timeout_s=0.5, retries=0)
                pending.pop(0)
                if not pending:
                    return True
            except ServerError:
                time.sleep(0.2)
        return False

    def _port_taken(self, *, exited: bool, new_log: str) -> bool:
        return exited and "in use" in new_log

    def _fresh_ports(self) -> None:
        self.port = free_udp_port()

    def _where(self) -> str:
        return f"snmpsim on udp:{self.address} (venv {self.venv})"
