"""Column headers and sheet names of the billing exports, written for people, in English and Korean.

The exports' machine names (``amount_at_stake``, ``circuit_id``) stay the names of the Parquet columns and of the
report's fields; CSV and XLSX show a person's label in the chosen :class:`~linewatch.choices.Language` instead
("Amount at stake" / "쟁점 금액", "Circuit id" / "회선 번호"). Korean follows the brief's terms (청구서 invoice,
지급 기한 due date, 통신사 carrier, 회선 line, 부서 department, 이의 제기 dispute, 최적화 제안 savings proposal).

A label is looked up by the table's name and the column's machine name first (the same name can mean two things:
the Summary's ``value`` is an amount, the Counts' a count), then by the column's name alone. A column without a
label in both languages cannot be exported (:func:`column_label` raises): ``tests/billing/test_export_labels.py``
checks every column of every table the ETL writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from linewatch.choices import Language


class LabelError(ValueError):
    """No label for a column or table, or a language that is not English or Korean: names which and why."""


@dataclass(frozen=True)
class Label:
    """One text in each language of the exports."""

    en: str
    ko: str

    def text(self, language: Language | str) -> str:
        return self.ko if parse_language(language) is Language.KO else self.en


def parse_language(language: Language | str) -> Language:
    """``language`` as a :class:`Language`, or a :class:`LabelError` naming the field and the choices."""
    try:
        return Language(str(language).strip().lower())
    except ValueError:
        choices = ", ".join(lang.value for lang in Language)
        raise LabelError(f"language: {language!r} is not one of {choices}") from None


COLUMNS: Mapping[str, Label] = {
    # who and what
    "line": Label("Line", "회선"),
    "carrier": Label("Carrier", "통신사"),
    "circuit_id": Label("Circuit id", "회선 번호"),
    "site": Label("Site", "사이트"),
    "department": Label("Department", "부서"),
    "cost_centre": Label("Cost centre", "비용 센터"),
    "currency": Label("Currency", "통화"),
    "period": Label("Billing period", "청구 기간"),
    "metric": Label("Metric", "항목"),
    "value": Label("Value", "값"),
    "lines": Label("Lines", "회선 수"),
    # money of a line or department
    "billed": Label("Billed", "청구액"),
    "allocated": Label("Taxes & surcharges allocated", "배분된 세금·부가 요금"),
    "total": Label("Total cost", "총 비용"),
    "expected": Label("Expected (contract)", "예상 요금 (계약)"),
    "at_stake": Label("Over-billed (at stake)", "과다 청구 (쟁점 금액)"),
    # measured usage
    "commit_mbps": Label("Commit (Mbit/s)", "약정 대역폭 (Mbit/s)"),
    "p95_mbps": Label("95th percentile (Mbit/s)", "95번째 백분위수 (Mbit/s)"),
    "peak_util_pct": Label("Peak utilization (%)", "최대 사용률 (%)"),
    "volume_gb": Label("Volume (GB)", "사용량 (GB)"),
    "availability_pct": Label("Availability (%)", "가용률 (%)"),
    "down_minutes": Label("Down (minutes)", "장애 시간 (분)"),
    "no_data_minutes": Label("No data (minutes)", "데이터 없음 (분)"),
    # contract changes inside the month
    "first_day": Label("First day", "시작일"),
    "last_day": Label("Last day", "종료일"),
    "days": Label("Days", "일수"),
    "mrc_per_month": Label("Monthly charge (MRC)", "월 기본 요금 (MRC)"),
    "expected_mrc": Label("Expected monthly charge", "예상 기본 요금"),
    "expected_usage": Label("Expected usage charge", "예상 사용량 요금"),
    # findings
    "finding_id": Label("Finding id", "지적 사항 번호"),
    "rule": Label("Audit rule", "감사 규칙"),
    "invoice": Label("Invoice", "청구서"),
    "amount_at_stake": Label("Amount at stake", "쟁점 금액"),
    "reason": Label("Reason", "사유"),
    "source": Label("Source (file, row)", "출처 (파일, 행)"),
    # savings proposals
    "action": Label("Proposal", "제안"),
    "current_commit_mbps": Label("Current commit (Mbit/s)", "현재 약정 대역폭 (Mbit/s)"),
    "proposed_commit_mbps": Label("Proposed commit (Mbit/s)", "제안 약정 대역폭 (Mbit/s)"),
    "current_mrc": Label("Current monthly charge", "현재 기본 요금"),
    "proposed_mrc": Label("Proposed monthly charge", "제안 기본 요금"),
    "monthly_saving": Label("Saving per month", "월 절감액"),
    "evidence": Label("Evidence", "근거"),
    # payments due
    "due_date": Label("Due date", "지급 기한"),
    "billing_account": Label("Billing account", "청구 계정"),
    "invoice_date": Label("Invoice date", "청구서 일자"),
    "amount": Label("Amount", "금액"),
    "stated_total": Label("Stated total", "청구서 기재 합계"),
    "disputed": Label("Disputed", "이의 제기 금액"),
    "findings": Label("Findings", "지적 사항 수"),
    # voice trunks (billing_etl.voice_costs)
    "rate_plan": Label("Rate plan", "요금제"),
    "channels": Label("Channels (contracted)", "계약 채널 수"),
    "calls": Label("Calls", "통화 수"),
    "answered": Label("Answered", "응답 통화 수"),
    "blocked": Label("Blocked calls", "차단된 통화 수"),
    "talk_minutes": Label("Talk minutes", "통화 시간 (분)"),
    "billed_minutes": Label("Billed minutes (rate plan)", "과금 시간 (분, 요금제)"),
    "busy_hour_erlangs": Label("Busiest hour (Erlangs)", "최번시 트래픽 (얼랑)"),
    "design_erlangs": Label("Design traffic (Erlangs)", "설계 트래픽 (얼랑)"),
    "channels_needed": Label("Channels needed", "필요 채널 수"),
    "blocking_pct": Label("Blocking at contracted channels (%)", "계약 채널 수의 호손율 (%)"),
    "rated": Label("Rated (rate plan)", "요금제 산정액"),
    # itemized calls against the CDRs
    "call_start": Label("Call start", "통화 시작"),
    "callee": Label("Called number", "착신 번호"),
    "carrier_billed_s": Label("Carrier billed (s)", "통신사 과금 시간 (초)"),
    "carrier_amount": Label("Carrier charge", "통신사 청구 금액"),
    "carrier_class": Label("Carrier's destination class", "통신사 착신 구분"),
    "dest_class": Label("Destination class", "착신 구분"),
    "cdr_source": Label("CDR (file, row)", "통화 기록 (파일, 행)"),
    "billsec_s": Label("Talk time (s)", "통화 시간 (초)"),
    "billed_s": Label("Billed by the rate plan (s)", "요금제 과금 시간 (초)"),
    "current_channels": Label("Current channels", "현재 채널 수"),
    "proposed_channels": Label("Proposed channels", "제안 채널 수"),
    # quarantined rows
    "source_file": Label("File", "파일"),
    "row": Label("Row", "행"),
    "column": Label("Column", "열"),
}

# The same machine name meaning something else in one table.
TABLE_COLUMNS: Mapping[tuple[str, str], Label] = {
    ("Summary", "value"): Label("Amount", "금액"),
    ("Counts", "value"): Label("Count", "건수"),
}

TABLES: Mapping[str, Label] = {
    "Summary": Label("Summary", "요약"),
    "Counts": Label("Counts", "건수"),
    "Lines": Label("Lines", "회선"),
    "Contract changes": Label("Contract changes", "계약 변경"),
    "Findings": Label("Findings", "지적 사항"),
    "Savings": Label("Savings", "최적화 제안"),
    "Departments": Label("Departments", "부서"),
    "Payments due": Label("Payments due", "지급 예정"),
    "Quarantine": Label("Quarantined rows", "격리된 행"),
    "Voice trunks": Label("Voice trunks", "음성 트렁크"),
    "Voice by department": Label("Voice by department", "부서별 음성 통화"),
    "Voice calls reconciliation": Label("Voice calls reconciliation", "통화별 요금 확인"),
}

# Text cells written for people (the Summary's and Counts' metrics), by their English text.
VALUES: Mapping[tuple[str, str], Mapping[str, Label]] = {
    ("Summary", "metric"): {
        text.en: text
        for text in (
            Label("billed (line charges)", "청구액 (회선 요금)"),
            Label("taxes & surcharges allocated", "배분된 세금·부가 요금"),
            Label("account charges unallocated", "회선에 배분되지 않은 계정 요금"),
            Label("total cost", "총 비용"),
            Label("expected (contracts)", "예상 요금 (계약)"),
            Label("at stake (over-billed)", "쟁점 금액 (과다 청구)"),
            Label("savings proposed per month", "최적화 제안 월 절감액"),
        )
    },
    ("Counts", "metric"): {
        text.en: text
        for text in (
            Label("invoice files", "청구서 파일"),
            Label("invoices of the period", "기간의 청구서"),
            Label("invoices conflicting", "서로 다른 내용의 청구서"),
            Label("rows loaded", "입력된 행"),
            Label("rows quarantined", "격리된 행"),
            Label("files rejected", "거부된 파일"),
            Label("lines", "회선"),
            Label("findings", "지적 사항"),
            Label("savings proposals", "최적화 제안"),
        )
    },
}


def column_label(table: str, column: str, language: Language | str = Language.EN) -> str:
    """The header of ``column`` of ``table`` in ``language``; :class:`LabelError` when it has none."""
    label = TABLE_COLUMNS.get((table, column)) or COLUMNS.get(column)
    if label is None:
        raise LabelError(
            f"table {table}, column {column}: no English/Korean header (add it to billing_etl/labels.py COLUMNS)"
        )
    return label.text(language)


def table_label(table: str, language: Language | str = Language.EN) -> str:
    """The sheet name of ``table`` in ``language`` (the table's own name when it has no label)."""
    label = TABLES.get(table)
    return label.text(language) if label is not None else table


def value_label(table: str, column: str, value: str, language: Language | str = Language.EN) -> str:
    """A text cell written for people (a metric's name) in ``language``; any other text unchanged."""
    label = VALUES.get((table, column), {}).get(value)
    return label.text(language) if label is not None else value


def machine_names(table: str, headers: Iterable[str]) -> list[str]:
    """The machine names of a CSV's or sheet's header row, whichever language it was written in (for readers of
    the exports: tests, scripts); a header that is no label of ``table`` is returned as it stands."""
    known: dict[str, str] = {}
    for name, label in COLUMNS.items():
        known.setdefault(label.en, name)
        known.setdefault(label.ko, name)
    for (owner, name), label in TABLE_COLUMNS.items():
        if owner == table:
            known[label.en] = name
            known[label.ko] = name
    return [known.get(h, h) for h in headers]
