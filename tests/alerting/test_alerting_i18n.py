"""Notifications in the receiver's language (en, ko) and time zone: every alert kind × state × language, the
gettext catalogue's completeness, the receiver settings in alerts.yaml, and one route delivering in Korean and in
English through the real SMTP server and the Slack webhook server."""

from __future__ import annotations

import ast
import gettext
import json
import re
import subprocess
from collections.abc import Callable
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest

from alerting import render
from alerting.config import load_alerts
from alerting.render import (
    Locale,
    format_duration,
    format_time,
    slack_message,
    subject_line,
    summary,
    text_body,
)
from alerting.service import AlertService
from alerting.store import AlertStore
from linewatch.choices import AlertRuleKind, DeliveryStatus, Language, OperStatus
from linewatch.errors import ConfigError
from linewatch.influx import InfluxClient
from tests.alerting.conftest import (
    T0,
    Clock,
    SmtpServer,
    WebhookServer,
    make_inventory,
    series,
    traffic_point,
    write,
)

PO = Path(render.__file__).parent / "locale" / "ko" / "LC_MESSAGES" / "alerting.po"
KO = Locale(Language.KO, "Asia/Seoul")
EN = Locale()

LINE_LABELS = {"line": "FRA-MPLS-1", "carrier": "Orange", "department": "Operations", "site": "Frankfurt",
               "device": "fra-edge-1", "scope": "line"}
DEVICE_LABELS = {"line": "fra-edge-1", "device": "fra-edge-1", "department": "Operations", "site": "Frankfurt",
                 "carrier": "Orange", "scope": "device"}
VOICE_LABELS = {**LINE_LABELS, "line": "FRA-VOICE-1", "carrier": "Deutsche Telekom", "department": "Sales"}
LINE_INFO = {"circuit_id": "OBS-77812", "capacity_bps": 100_000_000, "interface": "ge-0/0/1",
             "grafana_url": "http://grafana.example/d/line?var-line=FRA-MPLS-1"}

# (id, kind, value, labels, info, Korean terms when firing, Korean terms when resolved)
KINDS: list[tuple[str, AlertRuleKind, float | None, dict[str, str], dict[str, Any], tuple[str, ...], tuple[str, ...]]] = [
    ("utilization", AlertRuleKind.UTILIZATION, 87.5, LINE_LABELS, {"warning": 80.0, "for_s": 300},
     ("사용률", "87.5 %", "계약 대역폭", "100 Mbit/s", "경고 기준", "5분 지속"), ("사용률", "정상 복귀", "계약 대역폭")),
    ("error_rate", AlertRuleKind.ERROR_RATE, 7.25, LINE_LABELS, {"warning": 5.0, "fields": ["in_errors_ps"]},
     ("오류율", "in_errors_ps", "7.25/s", "경고 기준 5/s"), ("오류율", "정상 복귀")),
    ("line_down", AlertRuleKind.LINE_DOWN, 2.0, LINE_LABELS, {"polls": 3},
     ("회선 FRA-MPLS-1 장애", "3회 연속 폴링"), ("회선 FRA-MPLS-1 장애 복구",)),
    ("member_down-one", AlertRuleKind.MEMBER_DOWN, 1.0, LINE_LABELS, {"polls": 3},
     ("구성 인터페이스 1개 장애", "3회 연속 폴링", "나머지 인터페이스로 운용 중"), ("구성 인터페이스 모두 복구",)),
    ("member_down-two", AlertRuleKind.MEMBER_DOWN, 2.0, LINE_LABELS, {"polls": 4},
     ("구성 인터페이스 2개 장애", "4회 연속 폴링"), ("구성 인터페이스 모두 복구",)),
    ("device_unreachable", AlertRuleKind.DEVICE_UNREACHABLE, 0.0, DEVICE_LABELS,
     {"polls": 3, "lines": ["FRA-MPLS-1", "FRA-INET-2"]},
     ("장비 fra-edge-1 응답 없음", "3회 연속 폴링", "회선: FRA-MPLS-1, FRA-INET-2"), ("장비 fra-edge-1 응답 재개",)),
    ("no_data-line", AlertRuleKind.NO_DATA, 5400.0, LINE_LABELS, {},
     ("회선 FRA-MPLS-1 수집 데이터 없음", "90분 동안"), ("회선 FRA-MPLS-1 데이터 수집 재개",)),
    ("no_data-device", AlertRuleKind.NO_DATA, 200_000.0, DEVICE_LABELS, {"lines": ["FRA-MPLS-1"]},
     ("장비 fra-edge-1 수집 데이터 없음", "2일 7시간 동안"), ("장비 fra-edge-1 데이터 수집 재개",)),
    ("channel_utilization", AlertRuleKind.CHANNEL_UTILIZATION, 80.0, VOICE_LABELS,
     {"channels": 30, "warning": 80.0, "for_s": 300},
     ("채널 30개 중 24개 통화 중", "80 %", "경고 기준 80 %", "5분 지속"), ("통화 중 채널 30개 중 24개", "정상 복귀")),
    ("blocked_calls", AlertRuleKind.BLOCKED_CALLS, 7.0, VOICE_LABELS, {"channels": 10, "warning": 5.0, "window_s": 3600},
     ("최근 1시간 통화 차단 7건", "모든 채널 사용 중", "시간당 5건"), ("통화 차단 7건으로 정상 복귀",)),
    ("premium_destination", AlertRuleKind.PREMIUM_DESTINATION, 12.0, VOICE_LABELS,
     {"lookback_s": 3600, "min_calls": 1, "destinations": ["+882…", "+53…"]},
     ("최근 1시간 유료·고위험 착신 통화 12건", "통화 도용 의심", "+882…, +53…"), ("착신 통화 12건으로 정상 복귀",)),
    ("after_hours_international", AlertRuleKind.AFTER_HOURS_INTERNATIONAL, 4.0, VOICE_LABELS,
     {"lookback_s": 7200, "min_calls": 3,
      "business_hours": {"timezone": "Europe/Berlin", "weekdays": ["monday"], "start": "08:00", "end": "18:00"}},
     ("최근 2시간 업무 시간(08:00–18:00 Europe/Berlin) 외 국제 통화 4건",), ("업무 시간 외 국제 통화 4건으로 정상 복귀",)),
    ("cost_spike", AlertRuleKind.COST_SPIKE, 85.2, VOICE_LABELS,
     {"baseline": 4.1, "factor": 3.0, "min_cost": 20.0, "baseline_weeks": 4},
     ("최근 1시간 통화 요금 85.20", "평소 요금 4.10", "평소의 3배 초과", "20 이상"), ("통화 요금 85.20로 정상 복귀", "기준 4.10")),
    ("forecast_crossing", AlertRuleKind.FORECAST_CROSSING, 18.0, LINE_LABELS,
     {"level_pct": 80.0, "within_days": 30, "date_s": 1_797_120_000, "earliest_s": 1_796_601_600,
      "latest_s": 1_797_724_800, "busy_hour_pct": 74.2, "growth_pct_per_month": 3.1},
     ("최번시 사용률이 2026-12-13에 80 %를 넘을 것으로 예측", "18일 후", "예측 구간 2026-12-07–2026-12-20",
      "현재 최번시 사용률 74.2 %", "월 +3.1%p"), ("30일 이내 80 %를 넘지 않음",)),
    ("anomaly", AlertRuleKind.ANOMALY, 9.0, LINE_LABELS,
     {"direction": "drop", "expected_pct": 55.0, "observed_pct": 3.2, "score_mad": -9.0, "k_mad": 5.0},
     ("트래픽 급감", "같은 요일·시간대 평소 55.0 %", "계약 대역폭의 3.2 %", "-9.0 MAD", "2026-11-25 20:50 KST부터"),
     ("트래픽 평소 수준으로 정상 복귀", "3.2 %")),
]


def _alert(kind: AlertRuleKind, state: str, value: float | None, labels: dict[str, str],
           info: dict[str, Any]) -> dict[str, Any]:
    return {"id": 7, "key": f"{kind.value}/x", "rule": kind.value, "kind": kind.value, "state": state,
            "severity": "critical", "since_s": T0 - 600, "changed_s": T0, "value": value,
            "labels": {**labels, "rule": kind.value, "severity": "critical"}, "info": {**LINE_INFO, **info}}


def _payload(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"receiver": "r", "group_key": "0:{rule=x}", "group_labels": {"rule": "x"}, "reason": "group_wait",
            "created_s": T0, "firing": [a for a in alerts if a["state"] == "firing"],
            "resolved": [a for a in alerts if a["state"] != "firing"]}


def _english_fragments() -> set[str]:
    """Every run of two or more English words in a msgid (placeholders cut out): none may survive in Korean."""
    out = set()
    for msgid in _msgids(Path(render.__file__)):
        for part in re.split(r"\{[a-z_]+\}", msgid):
            for run in re.findall(r"[A-Za-z]+(?: [A-Za-z]+)+", part):
                if run not in ("oper down", "admin up", "linewatch alerts list", "linewatch alerts ack"):
                    out.add(run)
    return out


def test_every_kind_is_in_the_table() -> None:
    assert {k for _, k, *_ in KINDS} == set(AlertRuleKind)


@pytest.mark.parametrize("state", ["firing", "resolved"])
@pytest.mark.parametrize(("kind", "value", "labels", "info", "ko_firing", "ko_resolved"),
                         [k[1:] for k in KINDS], ids=[k[0] for k in KINDS])
def test_korean_receiver_reads_korean_terms_and_no_english_sentence(kind: AlertRuleKind, value: float | None,
                                                                    labels: dict[str, str], info: dict[str, Any],
                                                                    ko_firing: tuple[str, ...],
                                                                    ko_resolved: tuple[str, ...], state: str) -> None:
    """Summary, subject, plain body and Slack blocks in Korean; the English receiver's text has no Korean."""
    payload = _payload(_alert(kind, state, value, labels, info))
    korean = "\n".join([summary(payload[state][0], KO), subject_line(payload, locale=KO), text_body(payload, locale=KO),
                        json.dumps(slack_message(payload, locale=KO), ensure_ascii=False)])
    for term in (ko_firing if state == "firing" else ko_resolved):
        assert term in summary(payload[state][0], KO), (term, summary(payload[state][0], KO))
    assert ("[심각]" if state == "firing" else "[해소]") in subject_line(payload, locale=KO)
    assert ("시작 시각" if state == "firing" else "해소 시각") in korean and "부서" in korean and "사이트" in korean
    assert ("2026-11-25 20:50 KST" if state == "firing" else "2026-11-25 21:00 KST") in korean
    leftovers = sorted(f for f in _english_fragments() if f in korean)
    assert not leftovers, leftovers
    english = "\n".join([subject_line(payload, locale=EN), text_body(payload, locale=EN)])
    assert not re.search(r"[가-힣]", english), english
    assert ("[CRITICAL]" if state == "firing" else "[RESOLVED]") in english and "UTC" in english


@pytest.mark.parametrize(("seconds", "en", "ko"), [
    (45, "45 s", "45초"), (300, "5 min", "5분"), (7500, "2 h 5 min", "2시간 5분"), (200_000, "2 d 7 h", "2일 7시간"),
], ids=["seconds", "minutes", "hours", "days"])
def test_durations_in_the_receivers_language(seconds: int, en: str, ko: str) -> None:
    assert (format_duration(seconds, EN), format_duration(seconds, KO)) == (en, ko)


@pytest.mark.parametrize(("zone", "expected"), [
    ("UTC", "2026-11-25 12:00 UTC"), ("Asia/Seoul", "2026-11-25 21:00 KST"), ("Europe/Berlin", "2026-11-25 13:00 CET"),
], ids=["utc-default", "seoul-kst", "berlin-cet"])
def test_times_in_the_receivers_time_zone_named_by_abbreviation(zone: str, expected: str) -> None:
    assert format_time(T0, Locale(timezone=zone)) == expected


def test_grouped_subject_counts_and_severity_in_korean() -> None:
    payload = _payload(*(_alert(AlertRuleKind.LINE_DOWN, "firing", 2.0, LINE_LABELS, {"polls": 3}) for _ in range(2)),
                       _alert(AlertRuleKind.LINE_DOWN, "resolved", 2.0, LINE_LABELS, {"polls": 3}))
    assert subject_line(payload, "[linewatch]", locale=KO) == "[linewatch] [발생:2 (심각) 해소:1] x"
    assert subject_line(payload, "[linewatch]", locale=EN) == "[linewatch] [FIRING:2 (critical) RESOLVED:1] x"


def test_slack_mrkdwn_escapes_control_characters_of_names() -> None:
    """A line or department named with <, > or & cannot forge a Slack link or mention."""
    labels = {**LINE_LABELS, "department": "R&D <!channel>"}
    body = slack_message(_payload(_alert(AlertRuleKind.LINE_DOWN, "firing", 2.0, labels, {"polls": 3})), locale=KO)
    fields = json.dumps(body["blocks"][1]["fields"], ensure_ascii=False)
    assert "R&amp;D &lt;!channel&gt;" in fields and "<!channel>" not in fields


# -- the catalogue -------------------------------------------------------------------------------------------------


def _msgids(source: Path) -> set[str]:
    """The texts render.py translates: string arguments of ``_()`` and ``locale.ngettext()`` calls."""
    out = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            plural = (isinstance(func, ast.Attribute) and func.attr == "ngettext" and isinstance(func.value, ast.Name)
                      and func.value.id == "locale")
            count = 2 if plural else int(isinstance(func, ast.Name) and func.id == "_")
            for arg in node.args[:count]:
                assert isinstance(arg, ast.Constant) and isinstance(arg.value, str), ast.unparse(node)
                out.add(arg.value)
    return out


def _plural_msgids(source: Path) -> set[str]:
    """The ``msgid_plural`` texts: second arguments of ``locale.ngettext()`` calls."""
    return {node.args[1].value for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "ngettext"
            and isinstance(node.args[1], ast.Constant)}


def test_catalogue_has_a_korean_text_for_every_msgid() -> None:
    catalogue = gettext.GNUTranslations(PO.with_suffix(".mo").open("rb"))._catalog  # type: ignore[attr-defined]
    plurals = {k[0] for k in catalogue if isinstance(k, tuple)}
    korean = {k if isinstance(k, str) else k[0]: v for k, v in catalogue.items() if k}
    msgids = _msgids(Path(render.__file__))
    assert len(msgids) > 40
    plural_forms = _plural_msgids(Path(render.__file__))
    missing = sorted(m for m in msgids - plural_forms if not korean.get(m))
    assert not missing, missing
    fields = re.compile(r"\{\w+\}")
    for msgid in msgids - plural_forms - plurals:  # the same placeholders, or .format() fails in Korean only
        assert set(fields.findall(korean[msgid])) == set(fields.findall(msgid)), (msgid, korean[msgid])


def test_committed_mo_is_compiled_from_the_committed_po(tmp_path: Path) -> None:
    subprocess.run(["msgfmt", "--check", "-o", str(tmp_path / "alerting.mo"), str(PO)], check=True,
                   capture_output=True)
    fresh = gettext.GNUTranslations((tmp_path / "alerting.mo").open("rb"))._catalog  # type: ignore[attr-defined]
    committed = gettext.GNUTranslations(PO.with_suffix(".mo").open("rb"))._catalog  # type: ignore[attr-defined]
    assert fresh == committed, "run: msgfmt -o alerting.mo alerting.po in alerting/locale/ko/LC_MESSAGES"


# -- alerts.yaml ---------------------------------------------------------------------------------------------------

RECEIVERS_YAML = """\
rules:
  - {{name: line_down, kind: line_down, consecutive_polls: 3}}
route: {{receiver: noc}}
receivers:
  - name: noc
    email: {{host: 127.0.0.1, tls: none, from: lw@example.net, to: [noc@example.net]}}
{settings}"""


@pytest.mark.parametrize(("settings", "expected"), [
    ("    language: kr\n", "alerts.yaml:7: receivers[0].language: Input should be 'en' or 'ko'"),
    ("    timezone: Asia/Sel\n", "alerts.yaml:7: receivers[0].timezone: unknown time zone 'Asia/Sel'"),
    ("    langauge: ko\n", "alerts.yaml:7: receivers[0].langauge: unknown key"),
], ids=["unknown-language", "unknown-timezone", "misspelt-key"])
def test_receiver_language_and_timezone_are_validated_naming_file_line_field(tmp_path: Path, settings: str,
                                                                             expected: str) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(RECEIVERS_YAML.format(settings=settings), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_alerts(path)
    assert expected in str(info.value)


def test_receiver_defaults_are_english_and_utc(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(RECEIVERS_YAML.format(settings=""), encoding="utf-8")
    (receiver,) = load_alerts(path).receivers
    assert (receiver.language, receiver.timezone) == (Language.EN, "UTC")


def test_shipped_alerts_yaml_has_a_korean_receiver() -> None:
    config = load_alerts(Path(__file__).resolve().parents[2] / "config" / "alerts.yaml")
    assert any(r.language is Language.KO and r.timezone == "Asia/Seoul" for r in config.receivers)


# -- one route, a Korean and an English receiver, real servers ----------------------------------------------------

ROUTE_YAML = """\
evaluation_interval_s: 60
rules:
  - {{name: line_down, kind: line_down, consecutive_polls: 3}}
route:
  receiver: en-mail
  group_by: [rule]
  group_wait_s: 30
  routes:
    - {{matchers: ['severity="critical"'], receiver: ko-mail, continue: true}}
    - {{matchers: ['severity="critical"'], receiver: ko-slack, continue: true}}
    - {{matchers: ['severity="critical"'], receiver: en-mail, continue: true}}
    - {{matchers: ['severity="critical"'], receiver: en-slack}}
receivers:
  - name: ko-mail
    language: {ko_mail}
    timezone: Asia/Seoul
    email: {{host: 127.0.0.1, port: {port}, tls: none, from: lw@example.net, to: [noc-ko@example.net]}}
  - name: en-mail
    email: {{host: 127.0.0.1, port: {port}, tls: none, from: lw@example.net, to: [noc-en@example.net]}}
  - name: ko-slack
    language: ko
    timezone: Asia/Seoul
    slack: {{webhook_url: "{url}", channel: "#noc-ko"}}
  - name: en-slack
    slack: {{webhook_url: "{url}", channel: "#noc-en"}}
"""


def _service(tmp_path: Path, influx: InfluxClient, clock: Clock, port: int, url: str, *,
             ko_mail: str = "ko") -> AlertService:
    path = tmp_path / "alerts.yaml"
    path.write_text(ROUTE_YAML.format(port=port, url=url, ko_mail=ko_mail), encoding="utf-8")
    inventory = make_inventory({"id": "FRA-1"})
    return AlertService(config=load_alerts(path, inventory=inventory), inventory=inventory, client=influx,
                        store=AlertStore(tmp_path / "state" / "alerts.sqlite"), clock=clock)


def _line_down(influx: InfluxClient) -> None:
    down = [traffic_point("FRA-1", T0 - 180 + 60 * i, util=0, oper=OperStatus.DOWN) for i in range(3)]
    write(influx, series("FRA-1", T0 - 780, [20.0] * 10) + down)


def _raw_subject(raw: bytes) -> str:
    return str(BytesHeaderParser().parsebytes(raw)["Subject"])


def test_one_route_delivers_korean_and_english_per_receiver(tmp_path: Path, influx: InfluxClient, clock: Clock,
                                                            webhook: WebhookServer,
                                                            smtp_factory: Callable[..., SmtpServer]) -> None:
    smtp = smtp_factory("plain")
    service = _service(tmp_path, influx, clock, smtp.port, webhook.url)
    try:
        _line_down(influx)
        service.tick()
        clock.advance(30)
        service.tick()
    finally:
        service.close()
    by_rcpt = {tuple(r): (m, raw) for r, m, raw in zip(smtp.recipients, smtp.messages, smtp.raw, strict=True)}
    ko_msg, ko_raw = by_rcpt[("noc-ko@example.net",)]
    en_msg, en_raw = by_rcpt[("noc-en@example.net",)]
    assert re.search(r"=\?utf-8\?[bq]\?", _raw_subject(ko_raw), re.IGNORECASE), _raw_subject(ko_raw)  # RFC 2047, UTF-8
    assert str(make_header(decode_header(_raw_subject(ko_raw)))).startswith(
        "[linewatch] [심각] line_down: 회선 FRA-1 장애 (oper down, admin up, 3회 연속 폴링)")
    assert ko_msg["Content-Language"] == "ko"
    ko_text = ko_msg.get_body(("plain",)).get_content()
    ko_html = ko_msg.get_body(("html",)).get_content()
    for term in ("발생 (1)", "통신사 / 회선 번호", "Colt CIR-0000", "계약 대역폭", "100 Mbit/s", "부서",
                 "시작 시각", "2026-11-25 20:57 KST", "대시보드"):
        assert term in ko_text and term in ko_html, term
    assert _raw_subject(en_raw).startswith("[linewatch] [CRITICAL] line_down: FRA-1 is down")  # plain ASCII
    en_text = en_msg.get_body(("plain",)).get_content()
    assert "Since:" in en_text and "2026-11-25 11:57 UTC" in en_text and not re.search(r"[가-힣]", en_text)
    slack = {body["channel"]: body for body in webhook.bodies}
    assert set(slack) == {"#noc-ko", "#noc-en"}
    ko_slack = json.dumps(slack["#noc-ko"], ensure_ascii=False)
    assert "회선 FRA-1 장애" in slack["#noc-ko"]["text"] and "*시작 시각*\\n2026-11-25 20:57 KST" in ko_slack
    assert "Grafana 대시보드" in ko_slack
    assert "FRA-1 is down" in slack["#noc-en"]["text"] and not re.search(r"[가-힣]", json.dumps(slack["#noc-en"],
                                                                                                ensure_ascii=False))


def test_queued_message_is_rendered_in_the_language_configured_at_delivery(
        tmp_path: Path, influx: InfluxClient, clock: Clock, webhook: WebhookServer,
        smtp_factory: Callable[..., SmtpServer]) -> None:
    """The outbox keeps the payload: a message queued while the receiver was English is delivered in Korean once
    alerts.yaml says ``language: ko`` (the SMTP server was down in between)."""
    smtp = smtp_factory("plain")
    port = smtp.port
    smtp.stop()  # nothing is delivered: the messages wait in the outbox
    service = _service(tmp_path, influx, clock, port, webhook.url, ko_mail="en")
    try:
        _line_down(influx)
        service.tick()
        clock.advance(30)
        service.tick()
    finally:
        service.close()
    pending = [m for m in AlertStore(tmp_path / "state" / "alerts.sqlite").messages(status=DeliveryStatus.PENDING)
               if m.receiver == "ko-mail"]
    assert pending and "회선" not in json.dumps(pending[0].payload, ensure_ascii=False)  # no rendered text stored
    smtp = smtp_factory("plain", port=port)
    service = _service(tmp_path, influx, clock, port, webhook.url, ko_mail="ko")  # the changed config, restarted
    try:
        clock.advance(3600)  # past any retry backoff
        service.tick()
    finally:
        service.close()
    subjects = {r[0]: m["Subject"] for r, m in zip(smtp.recipients, smtp.messages, strict=True)}
    assert "회선 FRA-1 장애" in subjects["noc-ko@example.net"], subjects
    assert "FRA-1 is down" in subjects["noc-en@example.net"], subjects
