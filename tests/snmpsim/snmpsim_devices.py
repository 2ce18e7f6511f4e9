"""The real-device recordings the snmpsim tests serve, and the counters each one moves.

Every file is an unmodified walk of a real device from the ``snmpsim-data`` package (path under its ``data/``),
except that the listed counters and sysUpTime move (snmpsim's ``numeric`` variation), the two biggest walks
(H3C: 628,186 records, Ruijie: 576,697) are served only under system/interfaces/ifMIB (``IF_MIB_SUBTREES``: all
that linewatch reads; indexing the rest took most of the fixture's start-up) and, for the one derived recording,
the value named in ``replace``. Rates are octets per second; the interfaces chosen are up and fast
enough that the rate stays under the recorded port speed (linewatch discards rates above it).
"""

from __future__ import annotations

from dataclasses import dataclass

from linewatch.servers.snmpsim import COUNTER32_MAX, IF_MIB_SUBTREES, MovingCounter, Recording

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"


@dataclass(frozen=True)
class Port:
    """One interface of a recording whose octet counters move: what a line names and the configured rates."""

    community: str
    name: str  # the ifName (or ifDescr on a device without ifXTable) a line is configured with
    if_index: int
    in_rate: float  # octets/s
    out_rate: float
    bits: int  # 64: ifHC*Octets move; 32: ifIn/OutOctets move

    @property
    def in_oid(self) -> str:
        return f"{IF_HC_IN_OCTETS if self.bits == 64 else IF_IN_OCTETS}.{self.if_index}"

    @property
    def out_oid(self) -> str:
        return f"{IF_HC_OUT_OCTETS if self.bits == 64 else IF_OUT_OCTETS}.{self.if_index}"

    def counters(self) -> tuple[MovingCounter, ...]:
        return (MovingCounter(self.in_oid, self.in_rate), MovingCounter(self.out_oid, self.out_rate))


MB = 1_000_000  # octets/s: 8 Mbit/s

# Normal HC counters on big vendors' boxes.
CISCO_IOS = Port("cisco-c3560", "Gi0/49", 10149, 50 * MB, 12.5 * MB, 64)  # Catalyst 3560, 1G uplink
JUNIPER_MX = Port("juniper-mx960", "ge-1/0/0", 565, 25 * MB, 6.25 * MB, 64)  # MX960 JunOS 13.3R9
# H3C Comware with 1,317 interfaces: one 10G port near the start of the table, one near the end.
H3C_FIRST = Port("h3c-comware-1317", "Ten-GigabitEthernet1/0/1", 3, 500 * MB, 125 * MB, 64)
# Ruijie N18010: no ifXTable at all (no ifName, no HC counters): lines must match ifDescr, 32-bit counters.
RUIJIE_NO_IFX = Port("ruijie-no-ifxtable", "GigabitEthernet 1/1/1", 1, 10 * MB, 2.5 * MB, 32)
# CTS media converter: ifName and ifDescr end in a NUL byte ("port0\x00"), HC counters.
MEDIA_CONVERTER = Port("media-converter-nul", "port0", 1, 5 * MB, 1.25 * MB, 64)

# Clavister firewall: ifName but only 32-bit counters. Eight counters (in and out of ifIndex 1-4, all 1G) run
# at 100 MB/s, so each wraps every (2**32-1)/1e8 = 42.9 s, staggered by an eighth of that: any two polls more
# than WRAP_STAGGER_S apart see at least one of them wrap.
CLAVISTER_RATE = 100 * MB
CLAVISTER_PORTS = {1: "DMZ", 2: "LAN-R", 3: "TEL_SFP3", 4: "sfp4"}
WRAP_PERIOD_S = COUNTER32_MAX / CLAVISTER_RATE
WRAP_STAGGER_S = WRAP_PERIOD_S / 8


def _clavister_counters() -> tuple[MovingCounter, ...]:
    out = []
    for k, (ix, col) in enumerate((ix, col) for ix in CLAVISTER_PORTS for col in (IF_IN_OCTETS, IF_OUT_OCTETS)):
        out.append(MovingCounter(f"{col}.{ix}", CLAVISTER_RATE, initial=COUNTER32_MAX * (8 - k) // 8))
    return tuple(out)


CLAVISTER_32 = [Port("clavister-32bit", name, ix, CLAVISTER_RATE, CLAVISTER_RATE, 32)
                for ix, name in CLAVISTER_PORTS.items()]  # fmt: skip

# HPE ProCurve: two interfaces named lo0 (ifIndex 4170 software loopback, 4179 OOB management loopback).
HPE_DUPLICATE = "lo0"
HPE_DUPLICATE_INDEXES = (4170, 4179)
# Catalyst 3750 stack: StackSub-St1-1 (ifIndex 5180) has no octet counters at all (neither HC nor 32-bit).
C3750_NO_OCTETS = ("cisco-c3750", "StackSub-St1-1", 5180)
# Derived from the media converter: ifName of ifIndex 2 replaced by Latin-1 bytes b"port\xe91" (not UTF-8). No
# recording in snmpsim-data has a non-UTF-8 interface name; this is the one value changed from a real walk.
NON_UTF8 = ("media-converter-latin1", b"port\xe91", 2)

RECORDINGS = (
    Recording("cisco-c3560", "network/switch/cisco-c3560.snmprec.bz2", counters=CISCO_IOS.counters()),
    Recording("juniper-mx960", "network/router/juniper-mx960-13-3r9-13.snmprec.bz2", counters=JUNIPER_MX.counters()),
    Recording("h3c-comware-1317", "network/switch/h3c-comware-lsq1wcmd0-2509p61.snmprec.bz2",
              counters=H3C_FIRST.counters(), subtrees=IF_MIB_SUBTREES),
    Recording("ruijie-no-ifxtable", "network/router/ruijie-n18010.snmprec.bz2", counters=RUIJIE_NO_IFX.counters(),
              subtrees=IF_MIB_SUBTREES),
    Recording("media-converter-nul", "network/switch/cts-media-converter.snmprec.bz2",
              counters=MEDIA_CONVERTER.counters()),
    Recording("media-converter-latin1", "network/switch/cts-media-converter.snmprec.bz2",
              counters=(MovingCounter(f"{IF_HC_IN_OCTETS}.2", 2 * MB), MovingCounter(f"{IF_HC_OUT_OCTETS}.2", MB)),
              replace={f"{IF_NAME}.2": ("4x", NON_UTF8[1].hex())}),
    Recording("clavister-32bit", "network/firewall/clavister-amaranten.snmprec.bz2", counters=_clavister_counters()),
    Recording("hpe-procurve", "network/switch/hpe-procurve-516733-b21.snmprec.bz2"),
    Recording("cisco-c3750", "network/switch/cisco-c3750.snmprec.bz2"),
)  # fmt: skip
