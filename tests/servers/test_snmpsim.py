"""The snmpsim launcher's pure part: how a real recording is rewritten so chosen counters move."""

from __future__ import annotations

import pytest

from linewatch.servers.snmpsim import COUNTER32_MAX, IF_MIB_SUBTREES, MovingCounter, Recording, render_recording

SOURCE = [
    "1.3.6.1.2.1.1.1.0|4|Juniper router",
    "1.3.6.1.2.1.1.3.0|67|390315276",
    "1.3.6.1.2.1.2.2.1.2.1|4x|706f72743000",
    "1.3.6.1.2.1.2.2.1.10.1|65|4000000000",
    "1.3.6.1.2.1.31.1.1.1.6.1|70|259094924367",
]
IN32, HC_IN, DESCR = "1.3.6.1.2.1.2.2.1.10.1", "1.3.6.1.2.1.31.1.1.1.6.1", "1.3.6.1.2.1.2.2.1.2.1"


def rec(**kwargs: object) -> Recording:
    return Recording("dev", "network/router/x.snmprec.bz2", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("recording", "expected"),
    [
        (rec(counters=(MovingCounter(IN32, 1e8),)),
         {IN32: f"{IN32}|65:numeric|rate=100000000.0,initial=4000000000,wrap=1"}),
        (rec(counters=(MovingCounter(HC_IN, 2.5e6, initial=7, wrap=False),)),
         {HC_IN: f"{HC_IN}|70:numeric|rate=2500000.0,initial=7"}),
        (rec(), {"1.3.6.1.2.1.1.3.0": "1.3.6.1.2.1.1.3.0|67:numeric|rate=100,initial=390315276"}),
        (rec(moving_uptime=False), {}),
        (rec(replace={DESCR: ("4x", b"port\xe91".hex())}), {DESCR: f"{DESCR}|4x|706f7274e931"}),
    ],
    ids=["counter32-keeps-recorded-value-and-wraps", "counter64-explicit-initial-no-wrap", "uptime-moves-100-per-s",
         "uptime-kept", "value-replaced"],
)  # fmt: skip
def test_render_rewrites_only_the_chosen_lines(recording: Recording, expected: dict[str, str]) -> None:
    out = render_recording(recording, SOURCE, source_name="x.snmprec")
    by_oid = {line.split("|", 1)[0]: line for line in out}
    assert len(out) == len(SOURCE)
    for line in SOURCE:
        oid = line.split("|", 1)[0]
        if oid == "1.3.6.1.2.1.1.3.0" and recording.moving_uptime and oid not in expected:
            continue
        assert by_oid[oid] == expected.get(oid, line)


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        (rec(counters=(MovingCounter("1.3.6.1.2.1.2.2.1.10.99", 1.0),)), r"x\.snmprec: recording has no 1\.3\.6\.1\.2\.1\.2\.2\.1\.10\.99"),
        (rec(counters=(MovingCounter(DESCR, 1.0),)), r"x\.snmprec:3: .* tag '4x'.*numeric variation"),
        (rec(counters=(MovingCounter(IN32, 1.0, initial=COUNTER32_MAX + 1),)), r"initial 4294967296 does not fit tag 65"),
        (rec(replace={"1.3.6.1.9": ("4", "x")}), r"recording has no 1\.3\.6\.1\.9"),
    ],
    ids=["counter-not-recorded", "counter-is-a-string", "initial-too-big", "replaced-oid-not-recorded"],
)  # fmt: skip
def test_render_names_the_file_line_and_oid_it_cannot_vary(recording: Recording, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_recording(recording, SOURCE, source_name="x.snmprec")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"community": "a/b", "source": "x.snmprec"}, "community 'a/b'"),
        ({"community": "a", "source": "x.txt"}, "not a .snmprec"),
        ({"community": "a", "source": "x.snmprec", "counters": (MovingCounter(IN32, 1), MovingCounter(IN32, 2))},
         "listed twice"),
    ],
    ids=["community-not-a-file-name", "not-a-recording", "counter-twice"],
)  # fmt: skip
def test_recording_refuses_bad_specs(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Recording(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("oid", "rate"), [(".1.3.6.1", 1.0), ("1.3.6.1", -1.0)], ids=["leading-dot", "negative-rate"])
def test_moving_counter_refuses_bad_specs(oid: str, rate: float) -> None:
    with pytest.raises(ValueError, match="MovingCounter"):
        MovingCounter(oid, rate)


def test_subtrees_keep_only_what_the_collector_reads() -> None:
    source = [*SOURCE, "1.3.6.1.2.1.4.20.1.1.10.0.0.1|64x|0a000001", "1.3.6.1.2.1.310.1|2|1",
              "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.5.1|2|30"]
    out = render_recording(rec(subtrees=IF_MIB_SUBTREES, moving_uptime=False), source, source_name="x.snmprec")
    assert out == SOURCE, "ipAddrTable, an OID merely starting with 1.3.6.1.2.1.31 and enterprise MIBs are left out"
