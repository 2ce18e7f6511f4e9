"""The demo and test PBX (docs/voice-demo.md): Kamailio between SIPp "phones" and a SIPp "carrier".

The files beside this module: ``kamailio.cfg`` (the template :class:`~linewatch.servers.kamailio.KamailioServer`
fills in), ``caller.xml`` (the phones placing calls: one per row of a calls CSV) and ``carrier.xml`` (a carrier's
SIP trunk, also the company's phones for inbound and internal calls: answers everything except numbers ending in
486, 480 or 503). :class:`Pbx` wires them together: one carrier, one phones UAS, Kamailio with the trunk table;
:meth:`Pbx.place` runs a caller with a list of calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from linewatch.servers.kamailio import KamailioServer, KamailioTrunk
from linewatch.servers.sipp import SippCall, SippRun

HERE = Path(__file__).resolve().parent
KAMAILIO_CFG = HERE / "kamailio.cfg"
CALLER_XML = HERE / "caller.xml"
CARRIER_XML = HERE / "carrier.xml"


@dataclass(frozen=True)
class TrunkPlan:
    """A trunk of the PBX before its carrier's address is known (see :meth:`Pbx.start`)."""

    name: str
    channels: int
    extensions: str
    dids: str | None = None


class Pbx:
    """Kamailio + a SIPp carrier (every trunk's calls go to it) + a SIPp phones UAS (inbound and internal calls).

    ``work_dir`` holds the SIPp runs; Kamailio gets its own private folder and writes its CDRs to ``cdr_path``
    (default: in that folder). ``start()``/``stop()`` or ``with Pbx(...) as pbx``.
    """

    def __init__(self, work_dir: Path, *, trunks: Sequence[TrunkPlan], cdr_path: Path | None = None,
                 sip_port: int | None = None, carrier_port: int | None = None,
                 **kamailio_options: object):  # fmt: skip
        self.work_dir = Path(work_dir)
        self.plans = tuple(trunks)
        self.carrier = SippRun(CARRIER_XML, work_dir=self.work_dir / "carrier", name="carrier", port=carrier_port)
        self.phones = SippRun(CARRIER_XML, work_dir=self.work_dir / "phones", name="phones")
        self.kamailio = KamailioServer(
            template=KAMAILIO_CFG,
            trunks=[KamailioTrunk(p.name, p.channels, self.carrier.address, p.extensions, p.dids) for p in self.plans],
            cdr_path=cdr_path, phones=self.phones.address, sip_port=sip_port, **kamailio_options,  # type: ignore[arg-type]
        )
        self._runs = 0

    def __repr__(self) -> str:
        return f"Pbx(kamailio={self.kamailio!r}, carrier={self.carrier.port}, phones={self.phones.port})"

    @property
    def cdr_path(self) -> Path:
        return self.kamailio.cdr_path

    def start(self) -> Self:
        self.carrier.start()
        self.phones.start()
        self.kamailio.start()
        return self

    def stop(self) -> None:
        for part in (self.kamailio, self.carrier, self.phones):
            part.stop()

    def cleanup(self) -> None:
        self.stop()
        self.kamailio.cleanup()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.cleanup()

    def caller(self, calls: Sequence[SippCall], *, rate_per_s: float = 10.0, name: str | None = None,
               max_concurrent: int | None = None) -> SippRun:  # fmt: skip
        """A caller run (not started) placing ``calls`` through Kamailio, ``rate_per_s`` new calls a second."""
        self._runs += 1
        name = name or f"caller-{self._runs}"
        return SippRun(CALLER_XML, work_dir=self.work_dir / name, name=name, remote=self.kamailio.sip_uri,
                       calls=calls, rate_per_s=rate_per_s, max_concurrent=max_concurrent)  # fmt: skip

    def place(self, calls: Sequence[SippCall], *, rate_per_s: float = 10.0, timeout_s: float | None = None,
              name: str | None = None) -> SippRun:  # fmt: skip
        """Place ``calls`` and wait until the caller is done; the finished run (``.counts()``, ``.call_ids``)."""
        run = self.caller(calls, rate_per_s=rate_per_s, name=name).start()
        longest = max((c.hold_s for c in calls), default=0.0)
        run.wait(timeout_s=timeout_s or 10.0 + len(calls) / rate_per_s + longest)
        return run
