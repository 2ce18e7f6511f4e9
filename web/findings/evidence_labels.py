"""The evidence pack's own words, in English and Korean (the pack's language, not the reader's session language).

A pack is a document for the carrier: it is written in the dispute's ``language`` whatever the user who sends it
reads, so its texts are pairs (:class:`billing_etl.labels.Label`, as the billing exports' headers are) rather than
gettext strings of the session. The enumerations (audit rule, charge type, billing model) come from
:mod:`web.labels` under ``translation.override(language)``. Korean follows the brief's terms (청구서 invoice,
이의 제기 dispute, 회선 line, 통신사 carrier, 요금 확인 charge verification).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from django.utils import translation

from billing_etl.labels import Label, parse_language
from linewatch.choices import Language

TEXTS: Mapping[str, Label] = {
    # the document
    "title": Label("Evidence for dispute {reference}", "이의 제기 증빙 자료 {reference}"),
    "subtitle": Label("Charge verification of the {period} invoices of {carrier}",
                      "{carrier} {period} 청구서 요금 확인 결과"),
    "carrier": Label("Carrier", "통신사"),
    "period": Label("Billing period", "청구 기간"),
    "reference": Label("Our reference", "당사 참조 번호"),
    "carrier_reference": Label("Your reference", "귀사 참조 번호"),
    "claimed": Label("Amount claimed", "청구 금액(이의 제기)"),
    "generated": Label("Prepared", "작성 일시"),
    "page": Label("Page", "페이지"),
    "quote": Label("Please quote {reference} on the credit note.", "크레딧 노트에 {reference}를 기재해 주십시오."),
    "none": Label("None.", "없음."),
    # the four parts (PDF headings and XLSX sheet names are these)
    "part_invoice": Label("Invoice lines", "청구서 항목"),
    "part_contract": Label("Contract", "계약 조건"),
    "part_usage": Label("Measured usage and availability", "측정 사용량 및 가용성"),
    "part_computation": Label("Computation", "계산 내역"),
    "intro_invoice": Label("The charges of your invoices that the findings below concern.",
                           "아래 지적 사항과 관련된 귀사 청구서의 청구 항목입니다."),
    "intro_contract": Label("The terms of the contract of each line concerned.",
                            "관련 회선별 계약 조건입니다."),
    "intro_usage": Label("What we measured on each line during the billing period (SNMP, 5-minute intervals, UTC).",
                         "청구 기간 동안 각 회선에서 측정한 값입니다(SNMP, 5분 간격, UTC)."),
    "intro_computation": Label("Each finding, the amount at stake and what we claim.",
                               "지적 사항별 쟁점 금액과 청구 금액입니다."),
    # invoice lines
    "invoice": Label("Invoice", "청구서"),
    "invoice_date": Label("Invoice date", "청구일"),
    "circuit_id": Label("Circuit id", "회선 번호"),
    "line": Label("Line", "회선"),
    "charge_type": Label("Charge type", "청구 유형"),
    "service_from": Label("Service from", "서비스 시작"),
    "service_to": Label("Service to", "서비스 종료"),
    "service_period": Label("Service period", "서비스 기간"),
    "quantity": Label("Quantity", "수량"),
    "unit_price": Label("Unit price", "단가"),
    "amount": Label("Amount", "금액"),
    "currency": Label("Currency", "통화"),
    "description": Label("Description", "내역"),
    "source": Label("Source (file:row)", "출처(파일:행)"),
    # contract
    "term": Label("Term", "항목"),
    "value": Label("Value", "값"),
    "no_contract": Label("No contract on record for this line.", "이 회선의 계약 정보가 없습니다."),
    "c_mrc": Label("Monthly recurring charge", "월 정액 요금"),
    "c_billing": Label("Billing model", "과금 방식"),
    "c_commit": Label("Committed rate", "약정 속도"),
    "c_capacity": Label("Capacity", "회선 용량"),
    "c_burst": Label("Over the commit", "약정 초과분"),
    "c_quota": Label("Included volume", "기본 제공량"),
    "c_over_quota": Label("Over the quota", "기본 제공량 초과분"),
    "c_sla": Label("SLA availability target", "SLA 가용성 목표"),
    "c_tiers": Label("SLA credits", "SLA 크레딧"),
    "c_cap": Label("SLA credit cap", "SLA 크레딧 상한"),
    "c_term": Label("Term", "약정 기간"),
    "w_per_mbps": Label("{price} per Mbit/s of the 95th percentile above {commit} ({direction})",
                        "95번째 백분위수가 {commit}를 넘는 Mbit/s당 {price} ({direction})"),
    "w_per_gb": Label("{price} per GB above {included} GB a month", "월 {included} GB 초과 GB당 {price}"),
    "w_tier": Label("availability below {below} %: {credit} % of the MRC", "가용성 {below} % 미만: 월 정액의 {credit} %"),
    "w_cap": Label("at most {cap} % of the MRC a month", "월 정액의 최대 {cap} %"),
    "w_term": Label("{months} months from {start}{renew}", "{start}부터 {months}개월{renew}"),
    "w_renew": Label(", renews for {months} months unless cancelled {notice} days before the end",
                     ", 종료 {notice}일 전까지 해지 통보가 없으면 {months}개월 자동 갱신"),
    # usage
    "time": Label("Time (UTC)", "시각(UTC)"),
    "day": Label("Day (UTC)", "일자(UTC)"),
    "in_mbps": Label("In (Mbit/s)", "수신(Mbit/s)"),
    "out_mbps": Label("Out (Mbit/s)", "송신(Mbit/s)"),
    "limit_mbps": Label("Commit or capacity (Mbit/s)", "약정 또는 용량(Mbit/s)"),
    "down_min": Label("Down (minutes)", "장애 시간(분)"),
    "availability": Label("Availability (%)", "가용성(%)"),
    "p95": Label("95th percentile", "95번째 백분위수"),
    "mean_in_out": Label("Mean in / out", "평균 수신/송신"),
    "peak_util": Label("Peak utilization", "최대 사용률"),
    "volume_in_out": Label("Volume in / out", "전송량 수신/송신"),
    "samples": Label("5-minute samples", "5분 샘플 수"),
    "down_total": Label("Down time", "장애 시간"),
    "no_data": Label("No data", "데이터 없음"),
    "measured_availability": Label("Measured availability", "측정 가용성"),
    "no_measurement": Label("No measurements for this line in the period.",
                            "이 기간에 이 회선의 측정값이 없습니다."),
    "measure_error": Label("The measurements could not be read ({error}).", "측정값을 읽을 수 없습니다({error})."),
    "not_in_inventory": Label("Circuit {circuit} is not one of our lines: nothing to measure.",
                              "회선 번호 {circuit}는 당사 회선이 아니므로 측정값이 없습니다."),
    "chart_in": Label("in", "수신"),
    "chart_out": Label("out", "송신"),
    "chart_commit": Label("commit {rate}", "약정 {rate}"),
    "chart_capacity": Label("capacity {rate}", "용량 {rate}"),
    "chart_down": Label("down", "장애"),
    "chart_usage_title": Label("{line}: 5-minute traffic, {period}", "{line}: 5분 트래픽, {period}"),
    "chart_availability_title": Label("{line}: outages, {period} (availability {pct})",
                                      "{line}: 장애 구간, {period} (가용성 {pct})"),
    # computation
    "finding": Label("Finding", "지적 사항"),
    "rule": Label("Rule", "규칙"),
    "reason": Label("Reason", "사유"),
    "at_stake": Label("Amount at stake", "쟁점 금액"),
    "recoverable": Label("Recoverable", "환급 대상 금액"),
    "total": Label("Total", "합계"),
    "total_recoverable": Label("Total recoverable", "환급 대상 합계"),
    "claim_line": Label("Amount claimed in this dispute", "이번 이의 제기 청구 금액"),
}


def text(key: str, language: Language | str, **values: object) -> str:
    """The pack's text ``key`` in ``language``, ``{placeholders}`` filled from ``values``."""
    words = TEXTS[key].text(language)
    return words.format(**values) if values else words


def texts(language: Language | str) -> dict[str, str]:
    """Every text without placeholders filled (for the template: ``t.part_invoice``)."""
    return {key: label.text(language) for key, label in TEXTS.items()}


def enum_text(enum: type[Enum], value: str, language: Language | str) -> str:
    """The app's label of an enumeration member in ``language`` (:mod:`web.labels`); the value itself when it is
    not a member or has no label registered."""
    from web.labels import label

    with translation.override(parse_language(language).value):
        try:
            return str(label(enum, value))
        except (KeyError, ValueError):
            return value
