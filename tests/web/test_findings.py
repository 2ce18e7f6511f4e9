"""Findings in the app (web/findings/services.py): the audit's findings upserted by their stable key, a person's
triage kept across re-runs, suppression rules (reason and expiry required; an expired rule no longer suppresses;
a rule never changes a finding recorded before), accept/reopen owned by finance, the SLA-credit claim's finding.

The audit findings are billing_etl.audit.Finding objects as the ETL makes them (the real ETL run is exercised by
tests/billing/test_finding_ids.py and the audit job's test); the database is the test database (SQLite, and
PostgreSQL in the web_database run)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from billing_etl.audit import Finding as EtlFinding
from billing_etl.finding_ids import finding_key
from linewatch.choices import AuditRule, FindingState

pytestmark = [pytest.mark.django_db, pytest.mark.web_database]
ROLES = ("viewer", "noc", "engineer", "finance", "admin")
OCT, NOV, DEC = "2026-10", "2026-11", "2026-12"
D = Decimal


@pytest.fixture
def inv(make_inventory) -> dict[str, Any]:
    return make_inventory(4)


@pytest.fixture
def people(user_with_role) -> dict[str, Any]:
    return {role: user_with_role(role) for role in ROLES}


def etl_finding(inv: dict[str, Any], *, line: int = 0, rule: AuditRule = AuditRule.RATE_MISMATCH,
                amount: str = "120.00", invoice: str = "INV-1", reason: str = "billed 620, contract 500",
                charge_key: str = "aaaaaaaaaaaaaaaa") -> EtlFinding:
    x = inv["lines"][line]
    return EtlFinding(rule, x.carrier.name, invoice, x.name, x.circuit_id, D(amount), reason, department="Sales",
                      source="inv.csv:3", currency="EUR", charge_key=charge_key)


def record(period: str, findings: list[EtlFinding], **kw: Any) -> Any:
    from web.findings.services import record_audit

    return record_audit(period, findings, **kw)


def test_new_findings_are_recorded_new_and_linked_to_carrier_and_line(inv):
    f = etl_finding(inv)
    report = record(OCT, [f, etl_finding(inv, line=1, rule=AuditRule.LATE_FEE, charge_key="b" * 16)])
    assert len(report.new) == 2 and not report.suppressed and not report.refreshed
    row = report.new[0]
    assert row.key == finding_key(f, OCT) and row.period == OCT and row.state == FindingState.NEW
    assert (row.carrier, row.line, row.circuit_id) == (inv["lines"][0].carrier, inv["lines"][0], "CID-00000")
    assert row.amount_at_stake == D("120.00") and row.recoverable == D("120.00") and row.currency == "EUR"
    assert row.present and row.display_id == f"F-{row.pk}"


def test_a_re_run_keeps_the_persons_triage_and_refreshes_amount_and_reason(inv, people):
    from web.findings import services

    f = etl_finding(inv)
    [row] = record(OCT, [f]).new
    services.accept(row, people["finance"], reason="the carrier's new price list, agreed by mail")
    remeasured = dataclasses.replace(f, amount_at_stake=D("80.00"), reason="re-measured: billed 580")
    report = record(OCT, [remeasured])
    assert [r.pk for r in report.refreshed] == [row.pk] and not report.new
    row.refresh_from_db()
    assert row.state == FindingState.ACCEPTED and row.state_reason.startswith("the carrier's new price list")
    assert (row.amount_at_stake, row.reason) == (D("80.00"), "re-measured: billed 580")


def test_a_finding_missing_from_the_next_audit_of_its_period_is_no_longer_present(inv):
    a, b = etl_finding(inv), etl_finding(inv, line=1, charge_key="c" * 16)
    record(OCT, [a, b])
    report = record(OCT, [a])
    assert [r.key for r in report.absent] == [finding_key(b, OCT)]
    from web.findings.models import Finding

    assert Finding.objects.get(key=finding_key(b, OCT)).present is False
    assert Finding.objects.get(key=finding_key(a, OCT)).present is True
    record(OCT, [a, b])
    assert Finding.objects.get(key=finding_key(b, OCT)).present is True


def _rule(inv: dict[str, Any], user: Any, **kw: Any) -> Any:
    from web.findings.models import SuppressionRule

    values = {"rule": AuditRule.RATE_MISMATCH, "line": inv["lines"][0], "reason": "price list 2026 agreed",
              "expires_on": dt.date(2026, 12, 31), "created_by": user, **kw}
    rule = SuppressionRule(**values)
    rule.full_clean()
    rule.save()
    return rule


def test_an_accepted_exception_does_not_come_back_while_its_rule_runs_and_does_after_it_expires(inv, people):
    """October's finding accepted by hand with a rule until 15 December: November's is suppressed, December's
    (audited after the expiry) is new again."""
    from web.findings import services

    [october] = record(OCT, [etl_finding(inv)], today=dt.date(2026, 11, 3)).new
    services.accept(october, people["finance"], reason="price list 2026 agreed")
    rule = _rule(inv, people["finance"], expires_on=dt.date(2026, 12, 15))
    november = record(NOV, [etl_finding(inv, invoice="INV-2")], today=dt.date(2026, 12, 2))
    assert november.new == [] and len(november.suppressed) == 1
    assert november.suppressed[0].state == FindingState.ACCEPTED
    assert november.suppressed[0].state_reason == "price list 2026 agreed"
    assert november.suppressed[0].suppressed_by == rule
    december = record(DEC, [etl_finding(inv, invoice="INV-3")], today=dt.date(2027, 1, 2))
    assert december.suppressed == [] and december.new[0].state == FindingState.NEW


@pytest.mark.parametrize(
    ("criteria", "suppressed"),
    [
        pytest.param({}, True, id="line-and-rule"),
        pytest.param({"rule": AuditRule.LATE_FEE}, False, id="other-rule"),
        pytest.param({"line": None, "circuit_id": "CID-00002"}, False, id="other-circuit"),
        pytest.param({"line": None, "circuit_id": "CID-00000"}, True, id="circuit"),
        pytest.param({"max_amount": D("100"), "currency": "EUR"}, False, id="amount-above-the-cap"),
        pytest.param({"max_amount": D("150"), "currency": "EUR"}, True, id="amount-within-the-cap"),
        pytest.param({"max_amount": D("150"), "currency": "USD"}, False, id="cap-in-another-currency"),
    ],
)
def test_a_rule_suppresses_only_what_it_names(inv, people, criteria, suppressed):
    _rule(inv, people["finance"], **criteria)
    report = record(OCT, [etl_finding(inv)], today=dt.date(2026, 11, 3))
    assert bool(report.suppressed) is suppressed


def test_a_rule_never_changes_a_finding_recorded_before(inv, people):
    from web.findings import services

    [row] = record(OCT, [etl_finding(inv)], today=dt.date(2026, 11, 3)).new
    services.accept(row, people["finance"], reason="checked")
    row = services.reopen(row, people["finance"])  # a person put it back to new
    _rule(inv, people["finance"])
    record(OCT, [etl_finding(inv)], today=dt.date(2026, 11, 4))
    row.refresh_from_db()
    assert row.state == FindingState.NEW and row.suppressed_by is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({"reason": ""}, "reason", id="no-reason"),
        pytest.param({"reason": "   "}, "reason", id="blank-reason"),
        pytest.param({"expires_on": None}, "expires_on", id="no-expiry"),
        pytest.param({"max_amount": D("10")}, "currency", id="amount-without-currency"),
    ],
)
def test_a_rule_needs_a_reason_and_an_expiry(inv, people, values, field):
    with pytest.raises(ValidationError) as err:
        _rule(inv, people["finance"], **values)
    assert field in err.value.message_dict


def test_accept_needs_a_reason(inv, people):
    from web.findings import services

    [row] = record(OCT, [etl_finding(inv)]).new
    with pytest.raises(ValidationError) as err:
        services.accept(row, people["finance"], reason=" ")
    assert "reason" in err.value.message_dict


@pytest.mark.parametrize("role", ["viewer", "noc", "engineer", "admin"])
def test_only_finance_triages(inv, people, role):
    from web.findings import services

    [row] = record(OCT, [etl_finding(inv)]).new
    with pytest.raises(services.NotPermitted) as err:
        services.accept(row, people[role], reason="fine")
    assert err.value.roles == ["finance"]
    row.refresh_from_db()
    assert row.state == FindingState.NEW


def test_reopen_only_from_accepted(inv, people):
    from web.findings import services

    [row] = record(OCT, [etl_finding(inv)]).new
    with pytest.raises(services.NotAvailable):
        services.reopen(row, people["finance"])


def test_the_sla_claim_names_its_finding_by_rule_line_and_period(inv):
    from web.faults.models import SlaClaim
    from web.findings.claims import claim_of, finding_of

    line = inv["lines"][1]
    [row] = record(OCT, [etl_finding(inv, line=1, rule=AuditRule.SLA_CREDIT_OWED, charge_key="")]).new
    claim = SlaClaim.objects.create(line=line, period=OCT, availability_pct=D("99.1"), target_pct=D("99.9"),
                                    credit_pct=D("10"), amount=D("31.00"), currency="EUR", outage_s=24000)
    assert finding_of(claim) == row
    assert claim_of(row) == claim
    other = SlaClaim.objects.create(line=line, period=NOV, availability_pct=D("99.1"), target_pct=D("99.9"),
                                    credit_pct=D("10"), amount=D("31.00"), currency="EUR", outage_s=24000)
    assert finding_of(other) is None


def test_an_unchanged_re_run_moves_last_seen_only_and_logs_no_change(inv):
    """Re-audits are frequent (every new invoice): an unchanged finding is not rewritten row by row."""
    from web.audit.models import ObjectChange
    from web.findings.models import Finding

    f = etl_finding(inv)
    [row] = record(OCT, [f]).new
    logged = ObjectChange.objects.filter(changed_object_id=row.pk, object_repr__startswith="F-").count()
    later = row.last_seen_at + dt.timedelta(hours=1)
    record(OCT, [f], now=later)
    assert Finding.objects.get(pk=row.pk).last_seen_at == later
    assert ObjectChange.objects.filter(changed_object_id=row.pk, object_repr__startswith="F-").count() == logged
    record(OCT, [dataclasses.replace(f, amount_at_stake=D("99.00"))], now=later)
    assert ObjectChange.objects.filter(changed_object_id=row.pk, object_repr__startswith="F-").count() == logged + 1
