"""The SNMP clients behind ``SnmpClient``: v2c (own codec) against the simulated agent and real snmpd, v3 (pysnmp)
against real snmpd; typed errors for timeouts, auth and protocol faults; table-walk state machine."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from collector.simagent import SimAgent
from collector.snmp import SnmpClient, V3Credentials, ber, make_client
from collector.snmp.pysnmp_client import AUTH_PROTOCOLS, PRIV_PROTOCOLS, PysnmpV3Client
from collector.snmp.v2c_client import TableWalk, V2cClient
from linewatch.choices import SnmpAuthProtocol, SnmpPrivProtocol
from linewatch.errors import SnmpAuthError, SnmpError, SnmpTimeout
from linewatch.servers import SnmpdServer

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_OPER = "1.3.6.1.2.1.2.2.1.8"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT = "1.3.6.1.2.1.31.1.1.1.10"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"


def v2c(
    port: int, *, community: str = "public", timeout_s: float = 2.0, retries: int = 1, name: str = "r1"
) -> SnmpClient:
    return make_client(
        device_name=name,
        host="127.0.0.1",
        port=port,
        timeout_s=timeout_s,
        retries=retries,
        v2c_community=community,
    )


async def _use(client: SnmpClient, op):
    try:
        return await op(client)
    finally:
        await client.close()


def run(client: SnmpClient, op):
    return asyncio.run(_use(client, op))


# ------------------------------------------------------------------ v2c against the simulated agent


def test_v2c_walk_returns_every_row_of_every_column(sim: SimAgent) -> None:
    dev = sim.devices["r1"]
    dev.set_counters(2, in_octets=2**33 + 1, oper_status=2, in_errors=9)
    got = run(
        v2c(sim.port("r1")),
        lambda c: c.walk_table([IF_HC_IN, IF_OPER, IF_IN_ERRORS, IF_NAME, IF_ALIAS], max_repetitions=3),
    )
    assert got == {
        IF_HC_IN: {1: 0, 2: 2**33 + 1, 3: 0, 4: 0},
        IF_OPER: {1: 1, 2: 2, 3: 1, 4: 1},
        IF_IN_ERRORS: {1: 0, 2: 9, 3: 0, 4: 0},
        IF_NAME: {i: f"ge-0/0/{i - 1}".encode() for i in range(1, 5)},
        IF_ALIAS: {i: f"line {i}".encode() for i in range(1, 5)},
    }


def test_v2c_walk_of_the_last_column_stops_at_end_of_mib_view(sim: SimAgent) -> None:
    got = run(v2c(sim.port("r1")), lambda c: c.walk_table([IF_ALIAS, IF_HC_IN]))
    assert sorted(got[IF_ALIAS]) == [1, 2, 3, 4] and sorted(got[IF_HC_IN]) == [1, 2, 3, 4]


def test_v2c_walk_sees_moved_and_removed_interfaces(sim: SimAgent) -> None:
    dev = sim.devices["r1"]
    dev.move_interface(2, 200)
    dev.remove_interface(4)
    got = run(v2c(sim.port("r1")), lambda c: c.walk_table([IF_NAME]))
    assert got == {IF_NAME: {1: b"ge-0/0/0", 3: b"ge-0/0/2", 200: b"ge-0/0/1"}}


def test_v2c_get_maps_missing_objects_to_none(sim: SimAgent) -> None:
    got = run(
        v2c(sim.port("r1")), lambda c: c.get([SYS_NAME, SYS_UPTIME, f"{IF_NAME}.77", "1.3.6.1.2.1.77.0"])
    )
    assert got == {SYS_NAME: b"r1", SYS_UPTIME: 1000, f"{IF_NAME}.77": None, "1.3.6.1.2.1.77.0": None}


def test_v2c_get_rows_chunks_large_requests(sim: SimAgent) -> None:
    """3 columns x 30 indexes = 90 varbinds: more than one PDU's worth."""
    sim.devices["r1"].set_counters(3, out_octets=77)
    got = run(v2c(sim.port("r1")), lambda c: c.get_rows([IF_HC_OUT, IF_OPER, IF_NAME], list(range(1, 31))))
    assert got[IF_HC_OUT][3] == 77 and got[IF_OPER][1] == 1 and got[IF_NAME][4] == b"ge-0/0/3"
    assert got[IF_NAME][30] is None and len(got[IF_HC_OUT]) == 30


def test_v2c_client_handles_many_concurrent_requests_on_one_socket(sim: SimAgent) -> None:
    async def many(c: SnmpClient) -> list:
        return await asyncio.gather(
            *(
                [c.get([f"{IF_NAME}.{i}"]) for i in range(1, 5)] * 10
                + [c.walk_table([IF_HC_IN], max_repetitions=1) for _ in range(5)]
            )
        )

    results = run(v2c(sim.port("r1")), many)
    assert [r[f"{IF_NAME}.{i}"] for r, i in zip(results[:40], list(range(1, 5)) * 10)] == [
        f"ge-0/0/{i - 1}".encode() for i in range(1, 5)
    ] * 10
    assert all(r == {IF_HC_IN: {1: 0, 2: 0, 3: 0, 4: 0}} for r in results[40:])


def test_silent_device_raises_snmp_timeout_naming_the_device(sim: SimAgent) -> None:
    sim.devices["r1"].set_silent()
    start = time.monotonic()
    with pytest.raises(SnmpTimeout, match=r"^r1: GET .*after 2 attempt\(s\) of 0.2 s"):
        run(v2c(sim.port("r1"), timeout_s=0.2, retries=1), lambda c: c.get([SYS_NAME]))
    assert time.monotonic() - start < 10  # does not hang (not a timing assertion)


def test_wrong_community_times_out(sim: SimAgent) -> None:
    with pytest.raises(SnmpTimeout, match="wrong community"):
        run(v2c(sim.port("r1"), community="nope", timeout_s=0.2, retries=0), lambda c: c.get([SYS_NAME]))


def test_unreachable_device_does_not_delay_another_clients_requests(sim: SimAgent) -> None:
    sim.devices["r2"].set_silent()

    async def scenario() -> list[str]:
        dead = v2c(sim.port("r2"), community="c2", timeout_s=1.0, retries=1, name="r2")
        alive = v2c(sim.port("r1"))
        order: list[str] = []

        async def poll(c: SnmpClient) -> None:
            try:
                await c.walk_table([IF_NAME])
                order.append(f"{c.device} ok")
            except SnmpTimeout:
                order.append(f"{c.device} timeout")

        await asyncio.gather(poll(dead), *(poll(alive) for _ in range(3)))
        await dead.close()
        await alive.close()
        return order

    assert asyncio.run(scenario()) == ["r1 ok"] * 3 + ["r2 timeout"]


def test_slow_device_answer_within_retries_is_accepted(sim: SimAgent) -> None:
    """A reply to the first send that arrives during the retry window still counts (same request-id)."""
    sim.devices["r1"].set_slow(0.3)
    got = run(v2c(sim.port("r1"), timeout_s=0.2, retries=2), lambda c: c.get([SYS_NAME]))
    assert got == {SYS_NAME: b"r1"}


# ------------------------------------------------------------------ v2c against real net-snmp snmpd


def test_v2c_client_reads_real_snmpd(snmpd: SnmpdServer) -> None:
    async def both(c: SnmpClient):
        return await c.get([SYS_NAME]), await c.walk_table([IF_DESCR, IF_IN_OCTETS], max_repetitions=2)

    scalars, table = run(v2c(snmpd.port), both)
    assert scalars == {SYS_NAME: snmpd.sys_name.encode()}
    assert table[IF_DESCR] and set(table[IF_DESCR]) == set(table[IF_IN_OCTETS])
    assert b"lo" in table[IF_DESCR].values()


# ------------------------------------------------------------------ v3 (pysnmp) against real net-snmp snmpd


def v3(snmpd: SnmpdServer, configured_user: str, **override: object) -> SnmpClient:
    u = snmpd.user(configured_user)
    creds: dict[str, object] = {
        "user": u.user,
        "auth_protocol": u.auth_protocol,
        "auth_key": u.auth_key,
        "priv_protocol": u.priv_protocol,
        "priv_key": u.priv_key,
    }
    creds.update(override)
    return make_client(
        device_name="core1",
        host="127.0.0.1",
        port=snmpd.port,
        timeout_s=0.5,
        retries=0,
        v3=V3Credentials(**creds),
    )  # type: ignore[arg-type]


@pytest.mark.parametrize("user", ["lwsha", "lwsha256"], ids=["sha-aes128", "sha256-aes256"])
def test_v3_client_reads_real_snmpd(snmpd: SnmpdServer, user: str) -> None:
    async def both(c: SnmpClient):
        return await c.get([SYS_NAME, "1.3.6.1.2.1.1.77.0"]), await c.walk_table(
            [IF_DESCR, IF_OPER], max_repetitions=2
        )

    scalars, table = run(v3(snmpd, user), both)
    assert scalars == {SYS_NAME: snmpd.sys_name.encode(), "1.3.6.1.2.1.1.77.0": None}
    assert b"lo" in table[IF_DESCR].values() and set(table[IF_OPER]) == set(table[IF_DESCR])


@pytest.mark.parametrize(
    ("override", "error", "message"),
    [
        (
            {"auth_key": "wrong-auth-key"},
            SnmpAuthError,
            r"^core1: SNMPv3 authentication failed for user lwsha \(wrong auth key or protocol\?\)$",
        ),
        ({"auth_protocol": SnmpAuthProtocol.SHA512}, SnmpAuthError, "authentication failed for user lwsha"),
        ({"user": "nobody"}, SnmpAuthError, "^core1: SNMPv3 user nobody is unknown to the device$"),
        (
            {"priv_key": "wrong-priv-key"},
            SnmpAuthError,
            r"^core1: SNMPv3 privacy failed for user lwsha \(wrong priv key or protocol\?\)",
        ),
        ({"priv_protocol": SnmpPrivProtocol.DES}, SnmpAuthError, "privacy failed for user lwsha"),
    ],
    ids=["wrong-auth-key", "wrong-auth-protocol", "unknown-user", "wrong-priv-key", "wrong-priv-protocol"],
)
def test_v3_credential_faults_raise_clear_typed_errors(
    snmpd: SnmpdServer, override: dict, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        run(v3(snmpd, "lwsha", **override), lambda c: c.get([SYS_NAME]))


def test_v3_to_a_device_that_never_answers_is_a_timeout_not_an_auth_error(sim: SimAgent) -> None:
    """The simulated agent speaks v2c only and drops v3 messages: just like an unreachable router."""
    client = make_client(
        device_name="dark", host="127.0.0.1", port=sim.port("r1"), timeout_s=0.2, retries=0,
        v3=V3Credentials("u", SnmpAuthProtocol.SHA, "authpass-1", SnmpPrivProtocol.AES128, "privpass-1"),
    )  # fmt: skip
    with pytest.raises(SnmpTimeout, match=r"^dark: GET .*unreachable\?"):
        run(client, lambda c: c.get([SYS_NAME]))


# ------------------------------------------------------------------ factory, mapping, credentials


def test_factory_picks_fast_client_for_v2c_and_pysnmp_for_v3() -> None:
    assert isinstance(
        make_client(device_name="a", host="127.0.0.1", port=1, timeout_s=1, retries=0, v2c_community="x"),
        V2cClient,
    )
    c = make_client(
        device_name="a",
        host="127.0.0.1",
        port=1,
        timeout_s=1,
        retries=0,
        v3=V3Credentials("u", SnmpAuthProtocol.SHA, "12345678", SnmpPrivProtocol.AES128, "12345678"),
    )
    assert isinstance(c, PysnmpV3Client) and isinstance(c, SnmpClient)


@pytest.mark.parametrize(
    "kwargs", [{}, {"v2c_community": "x", "v3": V3Credentials("u")}], ids=["neither", "both"]
)
def test_factory_requires_exactly_one_of_v2c_and_v3(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        make_client(device_name="a", host="127.0.0.1", port=1, timeout_s=1, retries=0, **kwargs)


def test_every_configurable_v3_protocol_maps_to_pysnmp() -> None:
    assert set(AUTH_PROTOCOLS) == set(SnmpAuthProtocol)
    assert set(PRIV_PROTOCOLS) == set(SnmpPrivProtocol)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"auth_protocol": SnmpAuthProtocol.SHA}, "needs an auth_key"),
        ({"priv_protocol": SnmpPrivProtocol.DES, "priv_key": "12345678"}, "requires an auth_protocol"),
        ({"auth_protocol": SnmpAuthProtocol.SHA, "auth_key": "short"}, "at least 8"),
    ],
    ids=["auth-without-key", "priv-without-auth", "short-key"],
)
def test_v3_credentials_validate_themselves(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        V3Credentials("u", **kwargs)


def test_v3_credentials_repr_hides_keys() -> None:
    creds = V3Credentials("u", SnmpAuthProtocol.SHA, "secret-auth", SnmpPrivProtocol.AES128, "secret-priv")
    assert "secret" not in repr(creds)


# ------------------------------------------------------------------ table-walk state machine (pure)

A, B = "1.3.6.1.2.1.2.2.1.7", "1.3.6.1.2.1.2.2.1.8"
END = ber.TAG_END_OF_MIB_VIEW
INT = ber.TAG_INTEGER


def _feed(walk: TableWalk, *responses: Sequence[tuple[str, int, object]]) -> TableWalk:
    for r in responses:
        walk.feed(r)
    return walk


@pytest.mark.parametrize(
    ("responses", "result", "active", "next_oids"),
    [
        (
            [[(f"{A}.1", INT, 1), (f"{B}.1", INT, 2), (f"{A}.5", INT, 1), (f"{B}.5", INT, 7)]],
            {A: {1: 1, 5: 1}, B: {1: 2, 5: 7}},
            [A, B],
            [f"{A}.5", f"{B}.5"],
        ),
        (
            [[(f"{A}.1", INT, 1), (f"{B}.1", INT, 2), (f"{A}.2", INT, 1)]],
            {A: {1: 1, 2: 1}, B: {1: 2}},
            [A, B],
            [f"{A}.2", f"{B}.1"],
        ),
        (
            [[(f"{A}.1", INT, 1), (f"{B}.1", INT, 2), (f"{B}.1", INT, 2), ("1.3.6.1.2.1.2.2.1.9.1", INT, 0)]],
            {A: {1: 1}, B: {1: 2}},
            [],
            [],
        ),
        (
            [[(f"{A}.3", INT, 1), (f"{B}.3", END, None)], [(f"{A}.4", INT, 2), (f"{A}.5", INT, 3)]],
            {A: {3: 1, 4: 2, 5: 3}, B: {}},
            [A],
            [f"{A}.5"],
        ),
    ],
    ids=["full-rows", "short-last-row", "both-columns-leave-subtree", "end-of-mib-view-drops-column"],
)
def test_table_walk_merges_responses(responses: list, result: dict, active: list, next_oids: list) -> None:
    walk = _feed(TableWalk([A, B]), *responses)
    assert (walk.result, walk.active, walk.next_oids()) == (result, active, next_oids)


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ([], "no varbinds"),
        ([(f"{A}.1.2", INT, 1)], "not indexed by one integer"),
        ([(f"{A}.5", INT, 1), (f"{B}.1", INT, 1), (f"{A}.5", INT, 1)], "not increasing"),
    ],
    ids=["empty-response", "two-part-index", "repeated-oid"],
)
def test_table_walk_rejects_misbehaving_agents(response: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TableWalk([A, B]).feed(response)


def test_timed_walk_records_which_response_carried_each_cell() -> None:
    """A reply that ends between two columns of a row leaves the rest of the row to the next response: each cell
    keeps the response (time, sysUpTime) that carried it."""
    walk = TableWalk([A, B], scalars=[SYS_UPTIME])
    assert walk.request_oids() == ["1.3.6.1.2.1.1.3", A, B]
    walk.feed([(SYS_UPTIME, ber.TAG_TIMETICKS, 500), (f"{A}.1", INT, 1), (f"{B}.1", INT, 2), (f"{A}.2", INT, 3)],
              10.0)
    walk.feed([(SYS_UPTIME, ber.TAG_TIMETICKS, 700), (f"{A}.3", INT, 5), (f"{B}.2", INT, 4), (f"{A}.4", END, None),
               (f"{B}.3", END, None)], 12.0)
    table = walk.timed_table()
    assert table.values == {A: {1: 1, 2: 3, 3: 5}, B: {1: 2, 2: 4}}
    assert [(r.time_s, r.scalars) for r in table.responses] == [(10.0, {SYS_UPTIME: 500}), (12.0, {SYS_UPTIME: 700})]
    assert (table.response(A, 2).time_s, table.response(B, 2).time_s) == (10.0, 12.0)
    assert walk.active == []


class CountingClock:
    """Each call returns the next integer: tells apart responses stamped by different calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return float(self.calls)


@pytest.mark.parametrize("client_kind", ["v2c", "v3-sha"], ids=["v2c-own-codec", "v3-pysnmp"])
def test_timed_reads_carry_sysuptime_in_every_response_of_real_snmpd(snmpd: SnmpdServer, client_kind: str) -> None:
    """Against net-snmp's snmpd: sysUpTime is a non-repeater of every GETBULK and a varbind of every GET, and every
    response is stamped by the clock when it arrives (one call per response)."""
    client = v2c(snmpd.port) if client_kind == "v2c" else v3(snmpd, "lwsha")

    async def reads(c: SnmpClient):
        walk_clock, get_clock = CountingClock(), CountingClock()
        walk = await c.walk_table_timed([IF_DESCR, IF_IN_OCTETS], scalars=[SYS_UPTIME], max_repetitions=1,
                                        clock=walk_clock)
        rows = await c.get_rows_timed([IF_DESCR, IF_IN_OCTETS], sorted(walk.values[IF_DESCR]),
                                      scalars=[SYS_UPTIME], clock=get_clock)
        return walk, walk_clock.calls, rows, get_clock.calls

    walk, walk_calls, rows, get_calls = run(client, reads)
    indexes = sorted(walk.values[IF_DESCR])
    assert len(indexes) >= 2 and len(walk.responses) == walk_calls >= len(indexes)
    assert all(isinstance(r.scalars[SYS_UPTIME], int) for r in walk.responses)
    assert [walk.response(IF_IN_OCTETS, ix).time_s for ix in indexes] == sorted(
        {walk.response(IF_IN_OCTETS, ix).time_s for ix in indexes}), "one response per row at max_repetitions=1"
    assert len(rows.responses) == get_calls >= 1 and all(isinstance(r.scalars[SYS_UPTIME], int)
                                                         for r in rows.responses)
    assert rows.values[IF_DESCR] == walk.values[IF_DESCR]


def test_timed_get_keeps_each_row_in_one_pdu(sim: SimAgent) -> None:
    """30 rows of 11 columns plus sysUpTime: whole rows per PDU, so an interface's in and out octets share one."""
    cols = [IF_NAME, IF_HC_IN, IF_HC_OUT, *[f"1.3.6.1.2.1.2.2.1.{n}" for n in (5, 7, 8, 13, 14, 19, 20)], IF_ALIAS]
    table = run(v2c(sim.port("r1")), lambda c: c.get_rows_timed(cols, list(range(1, 31)), scalars=[SYS_UPTIME]))
    assert len(table.responses) == 6  # 5 rows (55 + 1 varbinds) per PDU
    for ix in range(1, 31):
        assert len({table.response_of[c][ix] for c in cols}) == 1, ix
    assert all(r.scalars[SYS_UPTIME] == 1000 for r in table.responses)


def test_walk_error_from_agent_becomes_snmp_error_naming_device(sim: SimAgent) -> None:
    with pytest.raises(SnmpError, match="^r1: GETBULK"):
        run(v2c(sim.port("r1")), lambda c: c.walk_table(["1.3.6.1.2.1.31.1.1.1"]))  # the entry, not a column


# ------------------------------------------------------------------ responses that match no request

# The stray answers must arrive inside the attempt that provoked them (counted ×2, not blamed on the next request):
# a window a loaded 2-core machine cannot miss, unlike 0.2 s.
ANSWER_WINDOW_S = 2.0


def test_wrong_request_id_is_reported_as_stale_or_spoofed_response(sim: SimAgent) -> None:
    """An answer whose request-id matches no request in flight is ignored, and the timeout says what it was
    instead of guessing "wrong community?"."""
    sim.devices["r1"].request_id_offset = 1000
    client = v2c(sim.port("r1"), timeout_s=ANSWER_WINDOW_S, retries=1)
    with pytest.raises(SnmpTimeout) as caught:
        run(client, lambda c: c.get([SYS_NAME]))
    message = str(caught.value)
    assert "meanwhile: ignored response(s) with a request-id that matches no request in flight (stale answer to " \
           "an earlier request, or spoofed) ×2" in message
    assert "wrong community" not in message
    assert isinstance(client, V2cClient) and client.stray_responses == 2


def test_stale_response_problem_is_not_blamed_on_a_later_request(sim: SimAgent) -> None:
    dev = sim.devices["r1"]

    async def scenario(c: SnmpClient) -> str:
        dev.request_id_offset = 1000
        with pytest.raises(SnmpTimeout):
            await c.get([SYS_NAME])
        dev.request_id_offset = 0
        dev.set_silent()
        with pytest.raises(SnmpTimeout) as caught:
            await c.get([SYS_NAME])
        return str(caught.value)

    assert run(v2c(sim.port("r1"), timeout_s=ANSWER_WINDOW_S, retries=0), scenario).endswith(
        "(unreachable or wrong community?)")
