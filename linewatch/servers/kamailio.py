"""A private Kamailio SIP proxy on loopback, for the voice tests and the demo PBX (docs/voice-demo.md).

Debian's ``kamailio`` (5.6) in a folder of its own: the config is generated from a template (the demo's is
``collector/voice/pbx/kamailio.cfg``; every ``@@NAME@@`` is replaced on each start) with the trunk table, SIP on
UDP and TCP on one free loopback port, JSON-RPC over HTTP on the same TCP port (``POST /RPC``), and the binrpc
control socket in the run folder (``kamcmd -s unix:RUN/kamailio_ctl``). Nothing is written outside the work
folder and the CDR file.

**CDRs.** acc writes one dialog CDR per call (answered or failed) through ``db_flatstore``, which keeps one file
per Kamailio process (``cdrs_<n>.log``) in a private folder; the launcher makes every such name a symbolic link
to the one CDR file (``cdr_path``), so every process appends complete lines to it. :meth:`rotate_cdrs` renames
the file and has Kamailio reopen it (``flatstore.k_rotate``). Columns: :data:`CDR_FIELDS`, documented with
their parser in :mod:`linewatch.voice.formats.kamailio`.

**Who runs it.** Started by root, Kamailio runs as the ``kamailio`` account Debian's package creates
(``setpriv``), in a new 0700 folder of that account (see :mod:`linewatch.servers.account`); started by anyone
else, as the caller. ``-DD -E``: foreground, logs on stderr (``kamailio.log``); SIGTERM stops every child.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from linewatch.errors import ServerError
from linewatch.fileperms import write_private
from linewatch.servers.account import ServiceAccount
from linewatch.servers.ports import LOOPBACK, free_tcp_port
from linewatch.servers.process import LocalServer, ServerProcess, clean_env, find_executable
from linewatch.voice.formats.kamailio import COLUMNS as CDR_FIELDS  # the CDR line's columns, documented there

__all__ = ["CDR_FIELDS", "KamailioServer", "KamailioTrunk", "trunk_route"]

ROOT_RUNS_AS = "kamailio"  # the account Debian's kamailio package creates
MODULE_DIR = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
PROFILE = "trunk"  # the dialog profile (with value = trunk name) that counts each trunk's calls
_FLATSTORE_LINKS = 256  # db_flatstore's file number is the process rank + 128: one link per possible number
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_MARKER = re.compile(r"@@[A-Z_]+@@")


@dataclass(frozen=True)
class KamailioTrunk:
    """One carrier trunk of the PBX: its name (the CDR's ``trunk``, the dialog profile value), its contracted
    ``channels`` (the INVITE that finds them all busy is answered 503 "All circuits busy"), where its calls go
    (``carrier``: host, port), the caller extensions that dial out on it (``extensions``: a digit prefix of the
    From user) and the numbers that arrive on it from the carrier (``dids``: a digit prefix of the Request-URI,
    with or without '+'; such calls are inbound and go to the PBX's phones)."""

    name: str
    channels: int
    carrier: tuple[str, int]
    extensions: str
    dids: str | None = None

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"trunk name {self.name!r}: letters, digits, '_', '.', '-' (max 64)")
        if self.channels < 1:
            raise ValueError(f"trunk {self.name}: channels must be at least 1, not {self.channels}")
        for field, value in (("extensions", self.extensions), ("dids", self.dids)):
            if value is not None and not value.isdigit():
                raise ValueError(f"trunk {self.name}: {field} must be a digit prefix, not {value!r}")


def trunk_route(trunks: Sequence[KamailioTrunk], *, phones: tuple[str, int] | None, extension_digits: int) -> str:
    """The body of the config's ``route[TRUNK]``: sets ``$var(direction)``, ``$var(trunk)``, ``$var(limit)``
    and ``$var(dst)``; a call it does not place keeps ``$var(direction)`` empty (answered 403)."""
    lines: list[str] = []
    phones_uri = f"sip:{phones[0]}:{phones[1]}" if phones else None
    if phones_uri:
        for trunk in trunks:  # a call to one of the trunk's numbers, from the carrier: inbound
            if trunk.dids:
                lines += [f'    if ($rU =~ "^[+]?{trunk.dids}") {{',
                          f'        $var(direction) = "inbound"; $var(trunk) = "{trunk.name}";',
                          f'        $var(extension) = $(rU{{s.substr,-{extension_digits},0}});',
                          f'        $var(limit) = {trunk.channels}; $var(dst) = "{phones_uri}"; return;', "    }"]
        prefixes = "|".join(sorted({t.extensions for t in trunks}))
        tail = max(extension_digits - min(len(t.extensions) for t in trunks), 0)
        lines += [f'    if ($rU =~ "^({prefixes})[0-9]{{0,{tail}}}$") {{',
                  f'        $var(direction) = "internal"; $var(dst) = "{phones_uri}"; return;', "    }"]
    for trunk in trunks:  # anything else a company extension dials: outbound on its trunk
        lines += [f'    if ($fU =~ "^{trunk.extensions}") {{',
                  f'        $var(direction) = "outbound"; $var(trunk) = "{trunk.name}";',
                  f'        $var(limit) = {trunk.channels}; $var(dst) = "sip:{trunk.carrier[0]}:{trunk.carrier[1]}";',
                  "        return;", "    }"]
    return "\n".join(lines) if lines else "    return;"


class KamailioServer(LocalServer):
    """A private Kamailio on ``127.0.0.1``: SIP (UDP and TCP) on ``.sip_port``, JSON-RPC at ``.rpc_url``, CDRs
    appended to ``.cdr_path``; ``.rpc(method, *params)``, ``.active_calls()``, ``.trunk_calls(name)``.

    ``start()`` returns once JSON-RPC answers. ``stop()``: SIGTERM, SIGKILL if needed; the CDR file stays.
    """

    _not_ready = "did not answer JSON-RPC core.version"

    def __init__(
        self,
        work_dir: Path | None = None,
        *,
        template: Path,
        trunks: Sequence[KamailioTrunk],
        cdr_path: Path | None = None,
        phones: tuple[str, int] | None = None,
        extension_digits: int = 4,
        sip_port: int | None = None,
        max_call_s: int = 21600,
        fr_timer_ms: int = 5000,
        fr_inv_timer_ms: int = 30000,
        run_as: str | None = None,
        start_timeout_s: float = 10.0,
        stop_timeout_s: float = 10.0,
    ):
        names = [t.name for t in trunks]
        if len(set(names)) != len(names):
            raise ValueError(f"trunk names must be unique: {names}")
        self.account = ServiceAccount.for_server(run_as, server="kamailio", root_default=ROOT_RUNS_AS,
                                                 package="kamailio")  # fmt: skip
        self.work_dir = self._adopt_work_dir(work_dir, prefix="linewatch-kamailio-")
        self.template = Path(template)
        self.trunks = tuple(trunks)
        self.phones = phones
        self.extension_digits = extension_digits
        self.host = LOOPBACK
        self._ports_chosen_by_us = sip_port is None
        self.sip_port = sip_port or _free_sip_port()
        self.cdr_path = Path(cdr_path).resolve() if cdr_path else self.work_dir / "cdr" / "kamailio-cdrs.log"
        self.config_path = self.work_dir / "kamailio.cfg"
        self.log_path = self.work_dir / "kamailio.log"
        self.run_dir = self.work_dir / "run"
        self.flatstore_dir = self.work_dir / "flatstore"
        self.max_call_s = max_call_s
        self.fr_timer_ms = fr_timer_ms
        self.fr_inv_timer_ms = fr_inv_timer_ms
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self._process = ServerProcess(name="kamailio", log_path=self.log_path)
        self._kamailio = ""

    def __repr__(self) -> str:
        return (f"KamailioServer(host={self.host!r}, sip_port={self.sip_port}, cdr_path={str(self.cdr_path)!r}, "
                f"trunks={[t.name for t in self.trunks]}, run_as={self.account.name!r}, running={self.running})")

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.sip_port}/RPC"

    @property
    def sip_uri(self) -> str:
        return f"{self.host}:{self.sip_port}"

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> KamailioServer:
        """Write the config and the CDR links, start Kamailio in the foreground, wait until JSON-RPC answers."""
        if self.running:
            return self
        self._kamailio = find_executable("kamailio", debian_package="kamailio")
        self.account.claim(self.work_dir, server="kamailio")
        for folder in (self.run_dir, self.flatstore_dir):
            if not folder.exists():
                folder.mkdir(mode=0o700)
                self.account.give(folder)
        self._prepare_cdr_file()
        self._start_with_port_retry()
        return self

    def _prepare_cdr_file(self) -> None:
        """The CDR file (created empty, owned by the account) and every flatstore file name linked to it."""
        self.cdr_path.parent.mkdir(parents=True, exist_ok=True)
        if not self.cdr_path.exists():
            self.cdr_path.touch(mode=0o644)
            self.account.give(self.cdr_path)
        blocked = self.account.cannot_read(self.cdr_path)
        if blocked:
            raise ServerError(f"kamailio runs as {self.account.name!r}, who cannot reach the CDR file "
                              f"{self.cdr_path}: {blocked}")
        for number in range(_FLATSTORE_LINKS):
            link = self.flatstore_dir / f"cdrs_{number}.log"
            if link.is_symlink() and os.readlink(link) == str(self.cdr_path):
                continue
            link.unlink(missing_ok=True)
            link.symlink_to(self.cdr_path)
            if self.account.switch:
                os.lchown(link, self.account.uid, self.account.gid)

    def config_text(self) -> str:
        """The generated config (every template marker replaced; a leftover one is an error)."""
        values = {
            "HOST": self.host, "SIP_PORT": str(self.sip_port), "MODULE_DIR": f"{MODULE_DIR}/",
            "RUN_DIR": str(self.run_dir), "FLATSTORE_DIR": str(self.flatstore_dir),
            "MAX_CALL_S": str(self.max_call_s), "FR_TIMER_MS": str(self.fr_timer_ms),
            "FR_INV_TIMER_MS": str(self.fr_inv_timer_ms),
            "TRUNK_ROUTE": trunk_route(self.trunks, phones=self.phones, extension_digits=self.extension_digits),
        }  # fmt: skip
        text = self.template.read_text()
        for name, value in values.items():
            text = text.replace(f"@@{name}@@", value)
        leftover = sorted(set(_MARKER.findall(text)))
        if leftover:
            raise ServerError(f"{self.template}: unknown template marker(s) {', '.join(leftover)}")
        return text

    def _spawn(self) -> None:
        write_private(self.config_path, self.config_text(), fsync=False)
        self.account.give(self.config_path)
        pid_file = self.run_dir / "kamailio.pid"
        argv = self.account.wrap([self._kamailio, "-DD", "-E", "-f", str(self.config_path), "-Y", str(self.run_dir),
                                  "-P", str(pid_file)])  # fmt: skip
        self._process.spawn(argv, env=clean_env(drop_prefixes=("KAMAILIO",)), cwd=self.work_dir)

    def _probe(self) -> bool:
        try:
            self.rpc("core.version", timeout_s=1.0)
        except (requests.RequestException, ServerError):
            return False
        return True

    def _port_taken(self, *, exited: bool, new_log: str) -> bool:
        return "Address already in use" in new_log or "bind" in new_log and exited

    def _fresh_ports(self) -> None:
        self.sip_port = _free_sip_port()

    def _where(self) -> str:
        return f"kamailio on {self.host}:{self.sip_port} (work dir {self.work_dir})"

    # -- clients ---------------------------------------------------------------------------------------

    def rpc(self, method: str, *params: Any, timeout_s: float = 5.0) -> Any:
        """The ``result`` of a JSON-RPC call over HTTP; ServerError with Kamailio's message on an error reply."""
        body = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
        response = requests.post(self.rpc_url, json=body, timeout=timeout_s)
        try:
            reply = response.json()
        except ValueError:
            response.raise_for_status()
            raise ServerError(f"kamailio RPC {method}: not a JSON reply: {response.text[:200]!r}") from None
        if "error" in reply:
            raise ServerError(f"kamailio RPC {method}: {reply['error'].get('message', reply['error'])}")
        return reply.get("result")

    def active_calls(self) -> int:
        """Dialogs in progress (``dlg.stats_active`` all: starting, connecting, answering, ongoing)."""
        return int(self.rpc("dlg.stats_active")["all"])

    def trunk_calls(self, trunk: str) -> int:
        """Calls holding a channel of ``trunk`` now (the size of its ``trunk`` dialog profile)."""
        result = self.rpc("dlg.profile_get_size", PROFILE, trunk)
        return int(result.get("size", 0)) if isinstance(result, dict) else int(result or 0)

    def rotate_cdrs(self, rotated: Path) -> Path:
        """Rename the CDR file to ``rotated`` and have Kamailio write a new one at ``cdr_path``.

        db_flatstore reopens a file only when the rotation is stamped a later second than the file's opening
        (whole seconds), so this waits for the next second first: at most one second.
        """
        self.cdr_path.rename(rotated)
        self._prepare_cdr_file()
        time.sleep(1.0 - time.time() % 1.0 + 0.01)
        self.rpc("flatstore.k_rotate")
        return rotated


def _free_sip_port() -> int:
    """A port free for both TCP and UDP on loopback (SIP listens on both)."""
    for _ in range(20):
        port = free_tcp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind((LOOPBACK, port))
            except OSError:
                continue
        return port
    raise ServerError("no loopback port free for both TCP and UDP after 20 tries")
