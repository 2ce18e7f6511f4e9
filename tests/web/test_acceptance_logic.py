"""The pure judging of final acceptance and change verification (web/orders/acceptance_logic.py): tables of
measured points and buckets in, verdicts and findings out. The same logic on real polls: tests/collector/
test_acceptance_rig.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from linewatch.choices import AcceptanceFinding as F
from linewatch.choices import LineMemberRole, OperStatus
from linewatch.errors import ConfigError
from linewatch.settings import load_settings
from web.orders.acceptance_logic import (
    FINDING_TEXT,
    AcceptanceCriteria,
    PollPoint,
    TrafficBucket,
    finding_text,
    format_bps,
    judge_acceptance,
    judge_change,
)

A = ("r1", "ge-0/0/0")
B = ("r1", "ge-0/0/1")
UP, DOWN = OperStatus.UP, OperStatus.DOWN
STEP = 60.0
MBIT = 1_000_000
CRITERIA = AcceptanceCriteria(window_s=600, poll_interval_s=STEP, traffic_bucket_s=60)


def polls(n: int = 10, *, member: tuple[str, str] = A, oper: dict[int, int] | None = None, admin_down: frozenset[int]
          = frozenset(), errors: dict[int, float] | None = None, skip: frozenset[int] = frozenset(),
          jitter_s: float = 0.0) -> list[PollPoint]:
    """``n`` polls of one member 60 s apart from 0: up, error-free, unless told otherwise per poll."""
    return [PollPoint(time_s=k * STEP + (jitter_s if k % 2 else -jitter_s if k else 0.0), member=member,
                      oper_status=(oper or {}).get(k, UP), admin_status=2 if k in admin_down else 1, interval_s=STEP,
                      rates={"in_errors_ps": (errors or {}).get(k, 0.0), "out_errors_ps": 0.0})
            for k in range(n) if k not in skip]


def buckets(n: int = 10, bps: float = 5 * MBIT, *, idle: frozenset[int] = frozenset()) -> list[TrafficBucket]:
    return [TrafficBucket(start_s=k * STEP, in_bps=100.0, out_bps=50.0) if k in idle
            else TrafficBucket(start_s=k * STEP, in_bps=bps, out_bps=bps / 10) for k in range(n)]


@pytest.mark.parametrize(("points", "traffic", "criteria", "codes"), [
    pytest.param(polls(), buckets(), CRITERIA, [], id="up-error-free-carrying-passes"),
    pytest.param([], [], CRITERIA, [F.NO_DATA], id="no-poll-at-all-is-no-data"),
    pytest.param(polls(oper={3: DOWN}), buckets(), CRITERIA, [F.DOWNTIME], id="one-poll-down-fails"),
    pytest.param(polls(admin_down=frozenset({2})), buckets(), CRITERIA, [F.DOWNTIME], id="admin-down-is-not-up"),
    pytest.param(polls(skip=frozenset({9})), buckets(), CRITERIA, [F.DOWNTIME], id="a-missed-poll-is-not-up"),
    pytest.param(polls(oper={3: DOWN}), buckets(), CRITERIA.model_copy(update={"min_uptime_pct": 90}), [],
                 id="down-within-min-uptime-passes"),
    pytest.param(polls(oper={3: DOWN}) + polls(member=B), buckets(), CRITERIA, [],
                 id="lag-with-one-member-up-is-up"),
    pytest.param(polls(jitter_s=25), buckets(), CRITERIA, [], id="jitter-below-half-an-interval-keeps-every-poll"),
    pytest.param(polls(15), buckets(), CRITERIA, [], id="extra-polls-count-no-more-than-expected"),
    pytest.param(polls(errors={4: 0.02}), buckets(), CRITERIA, [F.ERRORS], id="any-error-fails-error-free"),
    pytest.param(polls(errors={4: 0.5}), buckets(), CRITERIA.model_copy(update={"max_errors_ps": 0.5}), [],
                 id="errors-at-the-allowed-rate-pass"),
    pytest.param(polls(errors={4: 0.3}) + polls(member=B, errors={4: 0.3}), buckets(),
                 CRITERIA.model_copy(update={"max_errors_ps": 0.5}), [F.ERRORS], id="member-errors-add-up"),
    pytest.param(polls(), buckets(idle=frozenset({0})), CRITERIA, [], id="nine-of-ten-buckets-carrying-pass"),
    pytest.param(polls(), buckets(idle=frozenset({0, 5})), CRITERIA, [F.NO_TRAFFIC], id="eight-of-ten-fail"),
    pytest.param(polls(), buckets(8), CRITERIA, [F.NO_TRAFFIC], id="buckets-without-data-carry-nothing"),
    pytest.param(polls(oper={1: DOWN}, errors={2: 1.0}), buckets(idle=frozenset(range(10))), CRITERIA,
                 [F.DOWNTIME, F.ERRORS, F.NO_TRAFFIC], id="every-failure-is-named"),
])
def test_acceptance_verdict(points: list[PollPoint], traffic: list[TrafficBucket], criteria: AcceptanceCriteria,
                            codes: list[F]) -> None:
    result = judge_acceptance(points, traffic, start_s=0, end_s=600, criteria=criteria)
    assert result.failure_codes == codes
    assert result.passed is (not codes)
    assert len(result.failures) == len(codes)


@pytest.mark.parametrize(("points", "traffic", "failure"), [
    pytest.param(polls(oper={3: DOWN, 4: DOWN}, skip=frozenset({9})), buckets(),
                 "down on 3 of 10 polls (70.00 % up, needs 100 %), 1 of them without data", id="downtime"),
    pytest.param(polls(errors={4: 0.4}), buckets(), "errors: peak 0.4/s in_errors_ps, allowed 0", id="errors"),
    pytest.param(polls(), buckets(idle=frozenset(range(1, 10))),
                 "no traffic: 10 % of 1-minute buckets above 1 kbit/s, needs 90 %", id="no-traffic"),
    pytest.param([], [], "no data: not one poll of the line arrived in the window", id="no-data"),
])
def test_acceptance_failure_names_what_failed_with_the_figure(points: list[PollPoint],
                                                               traffic: list[TrafficBucket], failure: str) -> None:
    assert judge_acceptance(points, traffic, start_s=0, end_s=600, criteria=CRITERIA).failures == [failure]


def test_acceptance_figures_are_json_ready_and_count_the_polls() -> None:
    result = judge_acceptance(polls(oper={3: DOWN}, skip=frozenset({9}), errors={4: 0.5}), buckets(), start_s=0,
                              end_s=600, criteria=CRITERIA)
    f = result.figures
    assert (f["samples"], f["expected_samples"], f["polls_up"], f["polls_down"], f["polls_missed"]) == (9, 10, 8, 2, 1)
    assert (f["uptime_pct"], f["max_errors_ps"], f["total_errors"]) == (80.0, 0.5, 30)
    assert (f["mean_bps"], f["peak_bps"], f["traffic_share_pct"]) == (5 * MBIT, 5 * MBIT, 100.0)
    assert all(isinstance(v, int | float) for v in f.values())
    stored = result.as_json()
    assert stored["failure_codes"] == ["downtime", "errors"]
    assert stored["findings"][1] == {"code": "errors", "params": {"peak": "0.5", "field": "in_errors_ps",
                                                                  "allowed": "0"},
                                     "text": "errors: peak 0.5/s in_errors_ps, allowed 0", "failure": True}


SPEEDS_FAST = {A: 100 * MBIT}
ONE = {A: LineMemberRole.MEMBER}


@pytest.mark.parametrize(("speeds", "roles", "old", "new", "peak", "ended", "passed", "codes"), [
    pytest.param(SPEEDS_FAST, ONE, 10, 20, 15, False, True, [], id="upgrade-traffic-above-old-passes"),
    pytest.param({A: 10 * MBIT}, ONE, 10, 20, 9, False, False, [F.PORT_SPEED], id="port-below-new-fails"),
    pytest.param({A: 10 * MBIT}, ONE, 10, 20, 15, True, False, [F.PORT_SPEED], id="port-fails-even-with-traffic"),
    pytest.param({A: 10 * MBIT}, ONE, 20, 10, 5, False, True, [], id="downgrade-passes-on-speed"),
    pytest.param({A: 10 * MBIT}, ONE, 20, 20, 5, False, False, [F.PORT_SPEED], id="same-capacity-needs-the-speed"),
    pytest.param({A: 10 * MBIT, B: 10 * MBIT}, {A: LineMemberRole.MEMBER, B: LineMemberRole.MEMBER}, 10, 20, 15,
                 False, True, [], id="lag-members-speeds-add-up"),
    pytest.param({A: 20 * MBIT, B: 10 * MBIT}, {A: LineMemberRole.PRIMARY, B: LineMemberRole.BACKUP}, 10, 20, 15,
                 False, False, [F.PORT_SPEED], id="a-backup-must-carry-the-line-alone"),
    pytest.param(SPEEDS_FAST, ONE, 10, 20, 8, False, None, [], id="upgrade-not-yet-observed"),
    pytest.param(SPEEDS_FAST, ONE, 10, 20, 8, True, True, [], id="upgrade-window-ended-passes-on-speed"),
    pytest.param({}, ONE, 10, 20, 0, False, None, [], id="no-poll-yet-not-observable"),
    pytest.param({}, ONE, 10, 20, 0, True, False, [F.NO_DATA], id="no-poll-in-the-whole-window-fails"),
])
def test_change_verdict(speeds: dict, roles: dict, old: int, new: int, peak: float, ended: bool,
                        passed: bool | None, codes: list[F]) -> None:
    result = judge_change(speeds, [TrafficBucket(0, in_bps=peak * MBIT)], roles=roles, old_capacity_bps=old * MBIT,
                          new_capacity_bps=new * MBIT, window_ended=ended)
    assert (result.passed, result.failure_codes) == (passed, codes)


@pytest.mark.parametrize(("speeds", "roles", "failure"), [
    pytest.param({A: 10 * MBIT}, ONE, "port speed: r1 ge-0/0/0 is 10 Mbit/s, below the new capacity 20 Mbit/s",
                 id="single-port"),
    pytest.param({A: 5 * MBIT, B: 10 * MBIT}, {A: LineMemberRole.MEMBER, B: LineMemberRole.MEMBER},
                 "port speed: r1 ge-0/0/0 + r1 ge-0/0/1 is 15 Mbit/s, below the new capacity 20 Mbit/s", id="lag"),
])
def test_change_failure_names_the_port_speed(speeds: dict, roles: dict, failure: str) -> None:
    result = judge_change(speeds, [], roles=roles, old_capacity_bps=10 * MBIT, new_capacity_bps=20 * MBIT,
                          window_ended=False)
    assert result.failures == [failure]


@pytest.mark.parametrize(("ended", "code", "note"), [
    (False, F.NOT_YET_OBSERVED, "not yet observed: traffic has not exceeded the old capacity 10 Mbit/s (peak 8 Mbit/s)"),
    (True, F.NOT_EXCEEDED, ("traffic never exceeded the old capacity 10 Mbit/s in the window (peak 8 Mbit/s): passed "
                           "on the port speed")),
])
def test_an_upgrade_without_demand_is_noted(ended: bool, code: F, note: str) -> None:
    result = judge_change(SPEEDS_FAST, [TrafficBucket(0, in_bps=8 * MBIT)], roles=ONE, old_capacity_bps=10 * MBIT,
                          new_capacity_bps=20 * MBIT, window_ended=ended)
    assert (result.note_codes, result.notes, result.failures) == ([code], [note], [])


@pytest.mark.parametrize(("bps", "text"), [
    (100, "100 bit/s"), (1000, "1 kbit/s"), (12_345_678, "12.3 Mbit/s"), (10**9, "1 Gbit/s"), (4e12, "4 Tbit/s"),
])
def test_format_bps(bps: float, text: str) -> None:
    assert format_bps(bps) == text


def test_every_finding_has_an_english_template() -> None:
    assert set(FINDING_TEXT) == set(F)


def test_the_demo_judges_acceptance_over_ten_minutes_of_ten_second_polls() -> None:
    criteria = AcceptanceCriteria.from_settings(load_settings(Path("config/linewatch.yaml")))
    assert (criteria.window_s, criteria.poll_interval_s) == (600, 10)


@pytest.mark.parametrize(("yaml", "named"), [
    ("orders: {acceptance: {window_s: 10}}", "orders.acceptance.window_s"),
    ("orders: {acceptance: {min_uptime_pct: 101}}", "orders.acceptance.min_uptime_pct"),
    ("orders: {acceptance: {max_error_ps: 0}}", "orders.acceptance.max_error_ps"),
])
def test_acceptance_settings_are_strict_and_name_the_field(tmp_path: Path, yaml: str, named: str) -> None:
    path = tmp_path / "linewatch.yaml"
    path.write_text(yaml + "\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert named in str(err.value)


def test_a_stored_finding_is_rendered_again_in_another_language() -> None:
    stored = judge_acceptance(polls(errors={4: 0.4}), buckets(), start_s=0, end_s=600,
                              criteria=CRITERIA).as_json()["findings"][0]
    korean = {FINDING_TEXT[F.ERRORS]: "오류: 최대 %(peak)s/s %(field)s, 허용 %(allowed)s"}
    assert finding_text(stored, lambda t: korean.get(t, t)) == "오류: 최대 0.4/s in_errors_ps, 허용 0"
    assert finding_text(stored) == "errors: peak 0.4/s in_errors_ps, allowed 0"
    assert finding_text({"code": "retired_code", "text": "as stored"}) == "as stored"
