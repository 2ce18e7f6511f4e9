"""The voice demo (docs/voice-demo.md): a month of modelled calls backfilled, then a real PBX placing live calls.

- :func:`backfill` (a ``DEMO_SETUP`` entry, so the call store is filled before the billing stage runs): the
  modelled calls from the 1st of the previous month (00:00 in the PBX's zone) to now are written as Asterisk
  ``cdr_csv`` rows where voice.yaml's ``asterisk`` source reads them (``run/cdr/asterisk/Master.csv``), then tailed
  through the voice pipeline into the call store and InfluxDB, committing the offset (the live stage resumes
  there). A later demo on the same run folder appends the calls since the previous backfill. ``--no-history``
  skips it.
- :func:`demo_stage` (a ``DEMO_STAGES`` entry): Kamailio on 127.0.0.1:15060 between SIPp callers and a SIPp
  carrier on 15070 (callers from 15080 up), with the demo's two trunks — ``obs-par`` (PAR-VOICE-1, 10 channels)
  offered more traffic than it has channels, so some calls are refused "All circuits busy", and ``dtag-fra``
  (FRA-VOICE-1, 30 channels) lightly loaded, which a minute in gets a burst of international calls to high-risk
  numbers (toll fraud: it trips ``premium_destination``). The voice collector (``VoiceService``) tails
  Kamailio's CDRs and polls its JSON-RPC every collector cycle; a summary line is printed every minute.

Kamailio runs as the ``kamailio`` account (when the demo runs as root) in a private folder; voice.yaml's
``kamailio`` source path (``run/cdr/kamailio/kamailio-cdrs.log``) is a link to its CDR file while the PBX runs
(the run folder is private to the demo's user) and a copy of it afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import requests

from collector.voice.pbx import CALLER_XML, Pbx, TrunkPlan
from linewatch.choices import CallOutcome, CdrFormat
from linewatch.errors import LinewatchError, ServerError
from linewatch.servers.sipp import SippCall, SippRun
from linewatch.voice.config import VoiceConfig, load_voice_config
from linewatch.voice.formats.config import CdrSource

log = logging.getLogger(__name__)

PBX_TIMEZONE = "Europe/Berlin"
SIP_PORT = 15060
CARRIER_PORT = 15070
FIRST_CALLER_PORT = 15080
BLOCK_S = 600  # each caller run places this long's calls, then the next block starts
FRAUD_AFTER_S = 60
SUMMARY_EVERY_S = 60


@dataclass(frozen=True)
class TrunkLoad:
    """The demo traffic of one voice line: its extensions and numbers, its numbering, and the offered load."""

    line: str
    extensions: tuple[int, int]  # the site's extension range (first, last)
    dids: str  # E.164 digits the carrier delivers the site's numbers with (+ the 4-digit extension)
    offered_erl: float  # mean calls in progress asked for (on a trunk of fewer channels some are refused)
    mean_hold_s: float
    country: str
    nsn_digits: int  # national significant number length of the country's numbers
    local: str  # area code of local calls
    mobile: str  # a mobile prefix
    abroad: tuple[str, ...]  # country codes of the international calls
    inbound_share: float = 0.4
    internal_share: float = 0.08

    def number(self, prefix: str, value: int, *, country: str | None = None) -> str:
        """``+<country><prefix><digits>`` with the national number padded to ``nsn_digits``."""
        width = max(self.nsn_digits - len(prefix), 4)
        return f"+{country or self.country}{prefix}{value % 10**width:0{width}d}"


LOADS = (
    TrunkLoad("PAR-VOICE-1", (4100, 4139), "3314000", offered_erl=11.5, mean_hold_s=40.0, country="33",
              nsn_digits=9, local="1", mobile="6", abroad=("49", "44", "1")),
    TrunkLoad("FRA-VOICE-1", (3100, 3199), "4969310", offered_erl=3.0, mean_hold_s=40.0, country="49",
              nsn_digits=10, local="69", mobile="151", abroad=("33", "44", "43")),
)  # fmt: skip
# The burst: a compromised phone calls international networks and high-risk countries (IRSF).
FRAUD_LINE = "FRA-VOICE-1"
FRAUD_EXTENSION = "3149"
FRAUD_NUMBERS = ("+88213{:06d}", "+5352{:06d}", "+25261{:06d}", "+67570{:05d}", "+88237{:06d}", "+2324{:07d}")
FRAUD_DESTINATIONS = "+882 (international networks), +53 (Cuba), +252 (Somalia), +675 (Papua New Guinea), +232 (Sierra Leone)"
FRAUD_CALLS = 12
FRAUD_MEAN_HOLD_S = 45.0


def say(msg: str) -> None:
    print(f"[demo] voice: {msg}", flush=True)


def month_start_s(now_s: float, *, months_back: int = 1, timezone: str = PBX_TIMEZONE) -> float:
    """00:00 of the 1st of the month ``months_back`` before ``now_s``'s, in ``timezone``, as epoch seconds."""
    local = dt.datetime.fromtimestamp(now_s, ZoneInfo(timezone))
    year, month = local.year, local.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return dt.datetime(year, month, 1, tzinfo=ZoneInfo(timezone)).timestamp()


def voice_settings(ctx: Any) -> Any:
    """The demo's settings with an InfluxDB spool of the voice collector's own: the SNMP collector's writer holds
    the demo's spool (one writer per spool folder)."""
    settings = ctx.settings
    spool = settings.influx.spool.model_copy(update={"path": Path(ctx.run_dir) / "var" / "spool-voice"})
    return settings.model_copy(update={"influx": settings.influx.model_copy(update={"spool": spool})})


def source_of(config: VoiceConfig, fmt: CdrFormat, name: str) -> CdrSource:
    """voice.yaml's source ``name``, else its first source of format ``fmt``."""
    source = config.source(name) or next((s for s in config.sources if s.format is fmt), None)
    if source is None:
        raise LinewatchError(f"voice.yaml has no {fmt.value} source (the demo's is named {name!r})")
    return source


# -- setup: the backfilled month -------------------------------------------------------------------------------------


@contextlib.contextmanager
def backfill(ctx: Any) -> Iterator[None]:
    """DEMO_SETUP entry ``collector.voice.demo:backfill``: the modelled month into the call store and InfluxDB.
    A failure is reported and the demo goes on without the month (a setup entry that raised would end it)."""
    if getattr(ctx, "history", True):
        try:
            load_month(ctx)
        except Exception:  # the rest of the demo does not depend on the month
            log.exception("voice demo: backfill failed")
            say("backfill failed (see the log above); the demo goes on without the month of calls")
    yield


def load_month(ctx: Any) -> None:
    """Write the modelled calls since the 1st of the previous month and tail them into the store once.

    A later demo on the same run folder appends only the calls since the previous backfill's end (its
    ``voice-backfill.json`` state): a month modelled again would have other calls (other ids), and the store would
    count both."""
    from collector.voice.service import VoiceService
    from collector.voice.synth import write_asterisk_month

    config = load_voice_config(ctx.settings, ctx.inventory)
    source = source_of(config, CdrFormat.ASTERISK, "asterisk")
    path = Path(source.path)
    state = Path(ctx.run_dir) / "var" / "voice-backfill.json"
    now_s = time.time()
    began = time.monotonic()
    previous_end = _previous_end(state, path)
    start_s = previous_end if previous_end is not None else month_start_s(now_s)
    if previous_end is None:
        rows = write_asterisk_month(path, ctx.inventory, start_s=start_s, end_s=now_s, seed=1)
    else:  # append the gap: the file's earlier rows are already in the store
        gap = path.with_name(path.name + ".gap")
        rows = write_asterisk_month(gap, ctx.inventory, start_s=start_s, end_s=now_s, seed=int(start_s))
        with path.open("ab") as out, gap.open("rb") as part:
            shutil.copyfileobj(part, out)
        gap.unlink()
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"path": str(path), "end_s": now_s}) + "\n")
    with VoiceService(voice_settings(ctx), inventory=ctx.inventory, config=config) as service:
        report = service.tail(source)
    if report.error:
        raise LinewatchError(f"{source.path}: {report.error}")
    since = dt.datetime.fromtimestamp(start_s, ZoneInfo(PBX_TIMEZONE)).strftime("%Y-%m-%d %H:%M")
    say(f"backfilled {rows} modelled calls since {since} ({report.new} new in the call store, "
        f"{report.duplicates} already there, {report.quarantined} quarantined, {report.points} points) "
        f"in {time.monotonic() - began:.1f} s")  # fmt: skip


def _previous_end(state: Path, path: Path) -> float | None:
    """Where the previous backfill of ``path`` ended (None: none, or its file is gone)."""
    try:
        data = json.loads(state.read_text())
    except (OSError, ValueError):
        return None
    if data.get("path") != str(path) or not path.exists():
        return None
    return float(data["end_s"])


# -- the live PBX ----------------------------------------------------------------------------------------------------


def trunk_plans(config: VoiceConfig, inventory: Any, loads: tuple[TrunkLoad, ...] = LOADS) -> list[TrunkPlan]:
    """The Kamailio trunks: voice.yaml's ``trunks`` entries of the kamailio source (their match is the trunk name)
    for the lines of ``loads``, with each line's contracted channels."""
    source = source_of(config, CdrFormat.KAMAILIO, "kamailio")
    lines = {line.id: line for line in inventory.lines}
    plans = []
    for load in loads:
        entry = next((t for t in config.trunks if t.line == load.line and t.source in (None, source.name)
                      and t.match.replace("-", "").replace("_", "").isalnum()), None)  # fmt: skip
        line = lines.get(load.line)
        if entry is None or line is None or not line.channels:
            log.warning("voice demo: %s has no kamailio trunk in voice.yaml or no channels; not on the PBX", load.line)
            continue
        plans.append(TrunkPlan(entry.match, line.channels, str(load.extensions[0])[:2], load.dids))
    return plans


def _exp_holds(rng: np.random.Generator, n: int, mean_s: float) -> np.ndarray:
    return np.clip(rng.exponential(mean_s, n), 4.0, 6 * mean_s).round(1)


def block_calls(load: TrunkLoad, rng: np.random.Generator, *, seconds: float) -> tuple[list[SippCall], float]:
    """One block of a trunk's calls in the order SIPp places them, and the rate (calls/s) that offers
    ``load.offered_erl``: outbound to local, national, mobile and foreign numbers (a few busy or unanswered),
    inbound from outside to the site's numbers, internal between extensions."""
    rate = load.offered_erl / load.mean_hold_s
    n = max(int(rate * seconds), 1)
    kinds = rng.choice(3, n, p=[1 - load.inbound_share - load.internal_share, load.inbound_share,
                                load.internal_share])  # fmt: skip
    holds = _exp_holds(rng, n, load.mean_hold_s)
    first, last = load.extensions
    exts = rng.integers(first, last + 1, n)
    others = rng.integers(first, last + 1, n)
    digits = rng.integers(0, 10**9, n)
    dest = rng.choice(4, n, p=[0.4, 0.2, 0.3, 0.1])
    fail = rng.random(n)
    calls = []
    for i in range(n):  # a few hundred rows per block: the SIPp input, not a per-CDR path
        ext = str(exts[i])
        if kinds[i] == 1:
            caller = load.number(load.mobile, int(digits[i]))
            calls.append(SippCall(caller, f"+{load.dids}{ext}", float(holds[i])))
            continue
        if kinds[i] == 2:
            calls.append(SippCall(ext, str(others[i]), float(holds[i])))
            continue
        value = int(digits[i])
        number = [load.number(load.local, value), load.number(str(value % 7 + 2), value),
                  load.number(load.mobile, value),
                  load.number("20", value, country=load.abroad[value % len(load.abroad)])][dest[i]]  # fmt: skip
        if fail[i] < 0.03:
            number = number[:-3] + "480"  # the carrier rings out: no answer
        elif fail[i] < 0.04:
            number = number[:-3] + "486"  # busy at the far end
        calls.append(SippCall(ext, number, float(holds[i])))
    return calls, rate


def fraud_calls(rng: np.random.Generator, n: int = FRAUD_CALLS) -> list[SippCall]:
    """The toll-fraud burst: ``n`` calls from one extension to international networks and high-risk countries."""
    numbers = [FRAUD_NUMBERS[i % len(FRAUD_NUMBERS)].format(int(rng.integers(0, 10**5))) for i in range(n)]
    return [SippCall(FRAUD_EXTENSION, number, float(h)) for number, h in zip(numbers, _exp_holds(rng, n, FRAUD_MEAN_HOLD_S),
                                                                              strict=True)]  # fmt: skip


def _link_cdrs(pbx: Pbx, path: Path) -> None:
    """voice.yaml's kamailio path → the PBX's CDR file (a previous run's copy is set aside, already loaded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        path.rename(path.with_name(f"{path.name}-{int(time.time())}"))
    path.symlink_to(pbx.cdr_path)


def _keep_cdrs(pbx: Pbx, path: Path) -> None:
    """The link replaced by a copy of the PBX's CDR file (the PBX's private folder goes with it)."""
    if path.is_symlink() and pbx.cdr_path.exists():
        copy = path.with_name(path.name + ".tmp")
        shutil.copyfile(pbx.cdr_path, copy)
        copy.replace(path)


class _Traffic:
    """The SIPp caller runs of the demo: one per trunk (block after block) and the fraud burst once."""

    def __init__(self, pbx: Pbx, loads: tuple[TrunkLoad, ...], *, seed: int = 7):
        self.pbx = pbx
        self.loads = loads
        self.rng = np.random.default_rng(seed)
        self.runs: dict[str, SippRun] = {}
        self.ports = {load.line: FIRST_CALLER_PORT + i for i, load in enumerate(loads)}
        self.fraud: SippRun | None = None
        self.fraud_line = any(load.line == FRAUD_LINE for load in loads)
        self.placed = 0

    def keep_calling(self) -> None:
        for load in self.loads:
            run = self.runs.get(load.line)
            if run is not None and run.running:
                continue
            calls, rate = block_calls(load, self.rng, seconds=BLOCK_S)
            run = SippRun(CALLER_XML, work_dir=self.pbx.work_dir / f"callers-{load.line}",
                          name=f"callers-{load.line}", remote=self.pbx.kamailio.sip_uri, port=self.ports[load.line],
                          calls=calls, rate_per_s=round(rate, 4))  # fmt: skip
            self.runs[load.line] = run.start()
            self.placed += len(calls)

    def fraud_burst(self) -> int:
        calls = fraud_calls(self.rng)
        self.fraud = SippRun(CALLER_XML, work_dir=self.pbx.work_dir / "fraud", name="fraud",
                             remote=self.pbx.kamailio.sip_uri, port=FIRST_CALLER_PORT + len(self.loads),
                             calls=calls, rate_per_s=1.0).start()  # fmt: skip
        self.placed += len(calls)
        return len(calls)

    def stop(self) -> None:
        for run in [*self.runs.values(), self.fraud]:
            if run is not None:
                run.stop()


def minute_summary(pbx: Pbx, store: Any, plans: list[TrunkPlan], config: VoiceConfig, *, now_s: float) -> str:
    """One line: per trunk the channels busy now (Kamailio's dialog profile) and the last minute's calls."""
    lines = {t.match: t.line for t in config.trunks}
    parts = []
    for plan in plans:
        line = lines.get(plan.name, plan.name)
        try:
            busy = str(pbx.kamailio.trunk_calls(plan.name))
        except (requests.RequestException, ServerError, ValueError):  # a summary line must not stop the demo
            busy = "?"
        calls = store.calls(lines=[line], start_s=now_s - SUMMARY_EVERY_S, end_s=now_s, columns=["outcome",
                                                                                                 "high_risk"])
        blocked = int((calls["outcome"] == CallOutcome.BLOCKED.value).sum())
        risky = int(calls["high_risk"].fillna(False).sum()) if "high_risk" in calls else 0
        parts.append(f"{line} {busy}/{plan.channels} busy, {len(calls)} calls, {blocked} blocked"
                     + (f", {risky} to high-risk numbers" if risky else ""))  # fmt: skip
    return " | ".join(parts)


def demo_stage(ctx: Any) -> None:
    """DEMO_STAGES entry ``collector.voice.demo:demo_stage``: the live PBX and the voice collector until stop."""
    from collector.voice.service import VoiceService

    config = load_voice_config(ctx.settings, ctx.inventory)
    kamailio_source = source_of(config, CdrFormat.KAMAILIO, "kamailio")
    plans = trunk_plans(config, ctx.inventory)
    if not plans:
        say("no voice line of the demo maps to a Kamailio trunk in voice.yaml; the PBX is not started")
        return
    cdr_link = Path(kamailio_source.path).resolve()
    pbx = Pbx(ctx.run_dir / "pbx", trunks=plans, sip_port=SIP_PORT, carrier_port=CARRIER_PORT)
    on_pbx = {t.line for t in config.trunks if t.match in {p.name for p in plans}}
    loads = tuple(load for load in LOADS if load.line in on_pbx)
    traffic = _Traffic(pbx, loads)
    try:
        pbx.start()
        _link_cdrs(pbx, cdr_link)
        say(f"PBX up: Kamailio sip:{pbx.kamailio.sip_uri} (JSON-RPC {pbx.kamailio.rpc_url}), carrier "
            f"127.0.0.1:{CARRIER_PORT}; trunks " + ", ".join(f"{p.name} ({p.channels} channels)" for p in plans)
            + f"; CDRs {cdr_link}")  # fmt: skip
        with VoiceService(voice_settings(ctx), inventory=ctx.inventory, config=config) as service:
            _loop(ctx, pbx, service, traffic, plans, config)
    finally:
        traffic.stop()
        _keep_cdrs(pbx, cdr_link)
        pbx.cleanup()
        say(f"PBX stopped after {traffic.placed} calls placed")


def _loop(ctx: Any, pbx: Pbx, service: Any, traffic: _Traffic, plans: list[TrunkPlan], config: VoiceConfig) -> None:
    started = time.monotonic()
    next_cycle = next_summary = started
    while not ctx.stop_event.is_set():
        traffic.keep_calling()
        now = time.monotonic()
        if traffic.fraud is None and traffic.fraud_line and now - started >= FRAUD_AFTER_S:
            n = traffic.fraud_burst()
            say(f"toll-fraud burst on {FRAUD_LINE}: extension {FRAUD_EXTENSION} calls {n} high-risk numbers: "
                f"{FRAUD_DESTINATIONS}")
        if now >= next_cycle:
            report = service.cycle()
            log.info("voice cycle: %s", report.summary())
            next_cycle = now + service.interval_s
        if now >= next_summary + SUMMARY_EVERY_S:
            say(minute_summary(pbx, service.store, plans, config, now_s=time.time()))
            next_summary = now
        ctx.stop_event.wait(1.0)
