"""The hand-written BER codec agrees with pysnmp/pyasn1 in both directions and rejects malformed input cleanly."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder as pyasn1_decoder
from pyasn1.codec.ber import encoder as pyasn1_encoder
from pyasn1.type import univ
from pysnmp.proto import api, rfc1902, rfc1905

from collector.snmp import ber
from collector.snmp.pysnmp_client import convert_value
from linewatch.errors import BerError

P = api.v2c
U32 = 2**32 - 1

# --------------------------------------------------------------------------------------- strategies

oids = st.builds(
    lambda first, second, rest: ".".join(str(a) for a in (first, second, *rest)),
    st.sampled_from([0, 1, 2]),
    st.integers(0, 39),
    st.lists(st.integers(0, 2**32 - 1), max_size=16),
) | st.builds(
    lambda rest: "1.3.6.1.2.1." + ".".join(map(str, rest)),
    st.lists(st.integers(0, 70_000), min_size=1, max_size=8),
)

ip_addresses = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))

# (tag, our value, pysnmp value)
values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda v: (ber.TAG_INTEGER, v, rfc1902.Integer32(v))),
    st.binary(max_size=300).map(lambda v: (ber.TAG_OCTET_STRING, v, rfc1902.OctetString(v))),
    st.just((ber.TAG_NULL, None, univ.Null(""))),
    oids.map(lambda v: (ber.TAG_OID, v, rfc1902.ObjectIdentifier(v))),
    ip_addresses.map(lambda v: (ber.TAG_IPADDRESS, v, rfc1902.IpAddress(v))),
    st.integers(0, U32).map(lambda v: (ber.TAG_COUNTER32, v, rfc1902.Counter32(v))),
    st.integers(0, U32).map(lambda v: (ber.TAG_GAUGE32, v, rfc1902.Gauge32(v))),
    st.integers(0, U32).map(lambda v: (ber.TAG_TIMETICKS, v, rfc1902.TimeTicks(v))),
    st.integers(0, 2**64 - 1).map(lambda v: (ber.TAG_COUNTER64, v, rfc1902.Counter64(v))),
    st.just((ber.TAG_NO_SUCH_OBJECT, None, rfc1905.noSuchObject)),
    st.just((ber.TAG_NO_SUCH_INSTANCE, None, rfc1905.noSuchInstance)),
    st.just((ber.TAG_END_OF_MIB_VIEW, None, rfc1905.endOfMibView)),
)
varbind_lists = st.lists(st.tuples(oids, values), max_size=12)

PYSNMP_PDUS = {
    ber.PDU_GET: P.GetRequestPDU,
    ber.PDU_GETNEXT: P.GetNextRequestPDU,
    ber.PDU_RESPONSE: P.ResponsePDU,
    ber.PDU_GETBULK: P.GetBulkRequestPDU,
}


def pysnmp_encode(
    community: bytes, pdu_type: int, request_id: int, f1: int, f2: int, varbinds: list
) -> bytes:
    pdu = PYSNMP_PDUS[pdu_type]()
    if pdu_type == ber.PDU_GETBULK:
        P.apiBulkPDU.set_defaults(pdu)
        P.apiBulkPDU.set_non_repeaters(pdu, f1)
        P.apiBulkPDU.set_max_repetitions(pdu, f2)
    else:
        P.apiPDU.set_defaults(pdu)
        P.apiPDU.set_error_status(pdu, f1)
        P.apiPDU.set_error_index(pdu, f2)
    P.apiPDU.set_request_id(pdu, request_id)
    P.apiPDU.set_varbinds(pdu, [(oid, v[2]) for oid, v in varbinds])
    msg = P.Message()
    P.apiMessage.set_defaults(msg)
    P.apiMessage.set_community(msg, community)
    P.apiMessage.set_pdu(msg, pdu)
    return pyasn1_encoder.encode(msg)


def pysnmp_decode(data: bytes) -> tuple[bytes, int, int, int, int, list]:
    msg, rest = pyasn1_decoder.decode(data, asn1Spec=P.Message())
    assert not rest
    pdu = P.apiMessage.get_pdu(msg)
    pdu_type = pdu.tagSet[0][0] | pdu.tagSet[0][1] | pdu.tagSet[0][2]
    f1, f2 = (int(pdu[1]), int(pdu[2]))
    vbs = [(str(name), *convert_value(value)) for name, value in P.apiPDU.get_varbinds(pdu)]
    return bytes(P.apiMessage.get_community(msg)), pdu_type, int(pdu[0]), f1, f2, vbs


messages = st.tuples(
    st.binary(max_size=40),
    st.sampled_from(sorted(PYSNMP_PDUS)),
    st.integers(-(2**31), 2**31 - 1),
    st.integers(0, 18),
    st.integers(0, 2**31 - 1),
    varbind_lists,
)

# --------------------------------------------------------------------------------------- property tests


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_our_decoder_reads_what_pysnmp_encodes(msg: tuple) -> None:
    community, pdu_type, rid, f1, f2, vbs = msg
    decoded = ber.decode_message(pysnmp_encode(community, pdu_type, rid, f1, f2, vbs))
    assert (decoded.version, decoded.community, decoded.pdu_type) == (ber.VERSION_2C, community, pdu_type)
    assert (decoded.request_id, decoded.error_status, decoded.error_index) == (rid, f1, f2)
    assert decoded.varbinds == [(oid, v[0], v[1]) for oid, v in vbs]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages)
def test_pysnmp_reads_what_our_encoder_writes(msg: tuple) -> None:
    community, pdu_type, rid, f1, f2, vbs = msg
    data = ber.encode_message(
        version=ber.VERSION_2C,
        community=community,
        pdu_type=pdu_type,
        request_id=rid,
        error_status=f1,
        error_index=f2,
        varbinds=[(oid, v[0], v[1]) for oid, v in vbs],
    )
    assert pysnmp_decode(data) == (community, pdu_type, rid, f1, f2, [(oid, v[0], v[1]) for oid, v in vbs])


@settings(max_examples=100, deadline=None)
@given(messages)
def test_our_encoding_is_byte_identical_to_pysnmp(msg: tuple) -> None:
    """Both produce definite-length minimal encodings, so the bytes match exactly, except that pyasn1 pads some
    negative integers with a redundant 0xFF octet (still valid BER, and both decoders read both forms)."""
    community, pdu_type, rid, f1, f2, vbs = msg
    assume(rid >= 0 and all(not (v[0] == ber.TAG_INTEGER and v[1] < 0) for _, v in vbs))
    ours = ber.encode_message(
        version=ber.VERSION_2C,
        community=community,
        pdu_type=pdu_type,
        request_id=rid,
        error_status=f1,
        error_index=f2,
        varbinds=[(oid, v[0], v[1]) for oid, v in vbs],
    )
    assert ours == pysnmp_encode(community, pdu_type, rid, f1, f2, vbs)


@settings(max_examples=200, deadline=None)
@given(st.lists(oids, min_size=1, max_size=60), st.integers(0, 2**31 - 1), st.integers(1, 200))
def test_request_helpers_match_generic_encoder(oid_list: list[str], rid: int, reps: int) -> None:
    assert ber.encode_get(request_id=rid, community=b"c", oids=oid_list) == ber.encode_message(
        version=1,
        community=b"c",
        pdu_type=ber.PDU_GET,
        request_id=rid,
        varbinds=[(o, ber.TAG_NULL, None) for o in oid_list],
    )
    assert ber.encode_getbulk(
        request_id=rid, community=b"c", oids=oid_list, max_repetitions=reps
    ) == ber.encode_message(
        version=1,
        community=b"c",
        pdu_type=ber.PDU_GETBULK,
        request_id=rid,
        error_status=0,
        error_index=reps,
        varbinds=[(o, ber.TAG_NULL, None) for o in oid_list],
    )


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_ber_error_or_decode(data: bytes) -> None:
    try:
        ber.decode_message(data)
    except BerError:
        pass


# --------------------------------------------------------------------------------------- table-driven cases


@pytest.mark.parametrize(
    ("value", "tag", "encoded"),
    [
        (0, ber.TAG_INTEGER, "020100"),
        (127, ber.TAG_INTEGER, "02017f"),
        (128, ber.TAG_INTEGER, "02020080"),
        (-128, ber.TAG_INTEGER, "020180"),
        (-129, ber.TAG_INTEGER, "0202ff7f"),
        (2**32 - 1, ber.TAG_COUNTER32, "410500ffffffff"),
        (2**64 - 1, ber.TAG_COUNTER64, "460900ffffffffffffffff"),
        ("1.3.6.1.2.1.1.3.0", ber.TAG_OID, "06082b06010201010300"),
        ("2.999.3", ber.TAG_OID, "0603883703"),
        ("10.0.0.1", ber.TAG_IPADDRESS, "40040a000001"),
        (None, ber.TAG_END_OF_MIB_VIEW, "8200"),
    ],
    ids=[
        "zero",
        "max-one-octet",
        "needs-leading-zero",
        "min-one-octet-negative",
        "negative-two-octets",
        "counter32-max",
        "counter64-max",
        "oid-sysuptime",
        "oid-joint-iso-large-arc",
        "ipaddress",
        "end-of-mib-view",
    ],
)
def test_known_encodings(value: object, tag: int, encoded: str) -> None:
    assert ber.encode_value(tag, value).hex() == encoded


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        (ber.TAG_INTEGER, 2**31),
        (ber.TAG_COUNTER32, -1),
        (ber.TAG_COUNTER32, 2**32),
        (ber.TAG_COUNTER64, 2**64),
        (ber.TAG_IPADDRESS, "1.2.3"),
        (ber.TAG_OID, "1"),
        (ber.TAG_OID, "1.x.3"),
        (ber.TAG_OID, "1.40.3"),
        (0x47, 5),
    ],
    ids=[
        "integer-too-big",
        "counter-negative",
        "counter32-too-big",
        "counter64-too-big",
        "ip-three-octets",
        "oid-one-arc",
        "oid-not-a-number",
        "oid-second-arc-too-big",
        "unknown-tag",
    ],
)
def test_unencodable_values_raise_ber_error(tag: int, value: object) -> None:
    with pytest.raises(BerError):
        ber.encode_value(tag, value)


GOOD = ber.encode_message(
    version=1,
    community=b"public",
    pdu_type=ber.PDU_RESPONSE,
    request_id=42,
    varbinds=[
        ("1.3.6.1.2.1.1.5.0", ber.TAG_OCTET_STRING, b"r1" * 100),
        ("1.3.6.1.2.1.1.3.0", ber.TAG_TIMETICKS, 5),
    ],
)


def test_every_truncation_of_a_valid_message_raises_ber_error() -> None:
    for cut in range(len(GOOD)):
        with pytest.raises(BerError):
            ber.decode_message(GOOD[:cut])


def _msg(pdu_type: int = ber.PDU_RESPONSE, version: int = 1, vb: bytes | None = None) -> bytes:
    """A response with one varbind whose raw bytes ``vb`` (SEQUENCE content) may be malformed."""
    if vb is None:
        vb = ber.encode_oid("1.3.6.1") + b"\x05\x00"
    return ber.encode_message_raw(
        version=version,
        community=b"p",
        pdu_type=pdu_type,
        request_id=1,
        error_status=0,
        error_index=0,
        varbind_bytes=bytes((0x30, len(vb))) + vb,
    )


OID_1361 = ber.encode_oid("1.3.6.1")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x30\x80" + GOOD[2:], "indefinite"),
        (b"\x30\x85\x00\x00\x00\x00\x05", "too large"),
        (b"\x30\x84\xff\xff\xff\xff\x02\x01\x01", "runs past"),
        (GOOD + b"\x00", "trailing"),
        (b"\x04\x00", "expected SEQUENCE"),
        (_msg(version=3), "version"),
        (_msg(pdu_type=0xA4), "PDU type"),
        (_msg(vb=OID_1361 + b"\x04\x05ab"), "runs past"),
        (_msg(vb=b"\x06\x02\x2b\x86\x05\x00"), "ends inside"),
        (_msg(vb=b"\x06\x00\x05\x00"), "empty OBJECT"),
        (_msg(vb=OID_1361 + b"\x41\x01\x05\x01"), "trailing octets"),
        (_msg(vb=OID_1361 + b"\x40\x00"), "IpAddress"),
        (_msg(vb=OID_1361 + b"\x47\x00"), "unsupported value tag"),
        (_msg(vb=OID_1361 + b"\x41\x06\x01\x00\x00\x00\x00\x00"), "out of range"),
        (_msg(vb=OID_1361 + b"\x02\x00"), "empty INTEGER"),
        (_msg(vb=b"\x04\x01a\x05\x00"), "OBJECT IDENTIFIER"),
    ],
    ids=[
        "indefinite-length",
        "length-of-length-too-big",
        "length-past-end",
        "trailing-garbage",
        "not-a-sequence",
        "snmp-v3-version",
        "trap-pdu-type",
        "value-past-varbind",
        "oid-ends-mid-arc",
        "empty-oid",
        "octets-after-value",
        "short-ipaddress",
        "unknown-value-tag",
        "counter32-overflow",
        "empty-integer",
        "varbind-name-not-oid",
    ],
)
def test_malformed_messages_raise_ber_error_naming_the_problem(data: bytes, reason: str) -> None:
    with pytest.raises(BerError, match=reason):
        ber.decode_message(data)
