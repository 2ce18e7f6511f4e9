"""The monthly finance report: what the lines cost in the billing month (per department, from the audit's actual
costs, web/finance), what the audit found on that month's invoices (web/findings), what was claimed and
recovered (disputes, web/findings; credit notes matched to them, web/credits), and the budgets' standing.

Definitions (docs/reports.md): the **month** is the billing period (``YYYY-MM``, the invoices' month).
*Cost* = the actual costs of the period (billed + allocated, ``CostActual``), never added across currencies;
the change is against the previous period in the same currency. *Findings* = the findings of the period's
invoices (any state), by rule, with their amount at stake. *Disputes of the month* = disputes about the period's
findings (``Dispute.period``), by state, with what they claimed, recovered and still wait for. *Recovered in the
month* = disputes resolved and credit matches confirmed within the month's calendar bounds (report time zone),
whatever period they were about. With a department, costs and findings are that department's (disputes and
credits are per carrier and stay whole).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from linewatch.choices import AuditRule, CreditMatchState, DisputeState
from web.reports.blocks import Figure, Table
from web.reports.providers import common

ZERO = Decimal(0)
A = common.amount  # an amount as a table cell (two decimals)
TOP_FINDINGS = 10


def _aware(moment_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment_s, dt.UTC)


def costs(period: str, department: str | None) -> list[Any]:
    """The period's actual costs grouped per department and currency (:func:`web.finance.chargeback.chargeback`)."""
    from web.finance.chargeback import chargeback
    from web.finance.models import CostActual

    rows = CostActual.objects.filter(period=period)
    if department:
        rows = rows.filter(department_name=department)
    return chargeback(rows)


def totals(groups: list[Any]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for g in groups:
        out[g.currency] += g.amount
    return dict(out)


def findings(period: str, department: str | None) -> list[Any]:
    from web.findings.models import Finding

    rows = Finding.objects.filter(period=period)
    if department:
        rows = rows.filter(department=department)
    return list(rows.order_by("-amount_at_stake", "pk"))


def findings_by_rule(rows: list[Any]) -> list[list[Any]]:
    """Per rule and currency: findings, at stake, recoverable; the largest amount first."""
    from web.labels import label

    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for f in rows:
        groups[(f.rule, f.currency)].append(f)
    out = [(str(label(AuditRule, rule)), len(items), sum((f.amount_at_stake for f in items), ZERO),
            sum((f.recoverable for f in items), ZERO), currency)
           for (rule, currency), items in groups.items()]
    return [[rule, n, common.amount(stake), common.amount(recoverable), currency]
            for rule, n, stake, recoverable, currency in sorted(out, key=lambda r: (-r[2], r[0]))]


def disputes_of(period: str) -> list[Any]:
    from web.findings.models import Dispute

    return list(Dispute.objects.filter(period=period).select_related("carrier").order_by("pk"))


def resolved_within(start_s: int, end_s: int) -> list[Any]:
    from web.findings.models import Dispute

    return list(Dispute.objects.filter(state=DisputeState.RESOLVED, resolved_at__gte=_aware(start_s),
                                       resolved_at__lt=_aware(end_s)).select_related("carrier").order_by("resolved_at"))


def credits_within(start_s: int, end_s: int) -> list[Any]:
    from web.credits.models import CreditMatch

    return list(CreditMatch.objects.filter(state=CreditMatchState.CONFIRMED, decided_at__gte=_aware(start_s),
                                           decided_at__lt=_aware(end_s))
                .select_related("dispute", "dispute__carrier", "credit_row__invoice").order_by("decided_at"))


def _sum_by_currency(items: list[Any], amount: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in items:
        out[item.currency] += getattr(item, amount) or ZERO
    return dict(out)


def _change(now: dict[str, Decimal], before: dict[str, Decimal]) -> str | None:
    """The relative change of the one currency both have (several currencies: none)."""
    if len(now) != 1 or set(now) != set(before):
        return None
    [currency] = now
    return common.change_pct(common.relative_change_pct(now[currency], before[currency]))


def budget_table(year: int, month: int, department: str | None) -> Table:
    """The year's budgets through the report's month (:func:`web.finance.figures.budget_statuses`)."""
    from web.finance.figures import budget_statuses

    statuses = [s for s in budget_statuses(year, as_of=month) if not department or s.target == department]
    rows = [[s.target, A(s.budget_year), A(s.budget_to_date), A(s.actual_to_date), A(s.variance), A(s.projection),
             s.currency]
            for s in statuses]
    return Table(title=_("Budgets %(year)s") % {"year": year},
                 columns=[_("Budget for"), _("Year"), _("To date"), _("Actual"), _("Variance"),
                          _("Year-end projection"), _("Currency")],
                 rows=rows, numeric={1, 2, 3, 4, 5}, note="" if rows else _("No budget for this year."))


def provide(ctx: Any) -> dict[str, Any]:
    """Provider ``finance``: figures ``cost``, ``findings_at_stake``, ``claimed``, ``recovered``; tables
    ``cost_by_department``, ``findings_by_rule``, ``top_findings``, ``disputes``, ``recoveries``, ``budgets``."""
    from web.labels import label

    period = ctx.period.key
    previous = ctx.period.previous().key
    start_s, end_s = common.period_s(ctx)
    groups = costs(period, ctx.department)
    now_total, before_total = totals(groups), totals(costs(previous, ctx.department))
    found = findings(period, ctx.department)
    disputes = [] if ctx.department else disputes_of(period)
    resolved = resolved_within(start_s, end_s)
    credits = credits_within(start_s, end_s)
    at_stake = _sum_by_currency(found, "amount_at_stake")
    claimed = _sum_by_currency([d for d in disputes if d.state != DisputeState.DRAFT], "claimed_amount")
    recovered = _sum_by_currency(resolved, "recovered_amount")

    by_state: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for d in disputes:
        by_state[(d.state, d.currency)].append(d)
    order = [s.value for s in DisputeState]
    dispute_rows = [[str(label(DisputeState, state)), len(items), A(sum((d.claimed_amount for d in items), ZERO)),
                     A(sum((d.recovered_amount or ZERO for d in items), ZERO)),
                     A(sum((d.pending_amount for d in items), ZERO)), currency]
                    for (state, currency), items in sorted(by_state.items(), key=lambda x: (order.index(x[0][0]),
                                                                                              x[0][1]))]
    recovery_rows = [[d.reference, d.carrier.name, d.period, d.resolved_at.astimezone(ctx.tz).date(),
                      _outcome(d.outcome) if d.outcome else str(label(DisputeState, d.state)),
                      A(d.claimed_amount), A(d.recovered_amount), d.currency] for d in resolved]
    credit_rows = [[m.dispute.reference, m.dispute.carrier.name, m.credit_row.invoice.number,
                    m.decided_at.astimezone(ctx.tz).date(), A(m.recovered_amount), m.currency] for m in credits]
    return {
        "cost": Figure(label=_("Cost of the month"), value=common.money_by_currency(now_total),
                       change=_change(now_total, before_total), tone="neutral"),
        "findings_at_stake": Figure(label=_("At stake in the audit's findings"),
                                    value=common.money_by_currency(at_stake),
                                    tone="warning" if any(at_stake.values()) else "good"),
        "findings_count": Figure(label=_("Findings"), value=f"{len(found):,}"),
        "claimed": Figure(label=_("Claimed in disputes"), value=common.money_by_currency(claimed)),
        "recovered": Figure(label=_("Recovered in the month"), value=common.money_by_currency(recovered),
                            tone="good" if any(recovered.values()) else "neutral"),
        "cost_by_department": Table(
            title=_("Cost per department"),
            columns=[_("Department"), _("Lines"), _("Cost centres"), _("Billed"), _("Allocated"), _("Total"),
                     _("Currency")],
            rows=[[g.department or _("Not charged back"), g.lines, ", ".join(sorted(g.cost_centres)),
                   A(g.billed_amount), A(g.allocated_amount), A(g.amount), g.currency] for g in groups],
            numeric={1, 3, 4, 5}, note="" if groups else _("No audited costs for this period yet.")),
        "findings_by_rule": Table(
            title=_("Findings by rule"),
            columns=[_("Rule"), _("Findings"), _("At stake"), _("Recoverable"), _("Currency")],
            rows=findings_by_rule(found), numeric={1, 2, 3},
            note="" if found else _("The audit found nothing on this period's invoices.")),
        "top_findings": Table(
            title=_("Largest findings"),
            columns=[_("Finding"), _("Rule"), _("Carrier"), _("Line or circuit"), _("At stake"), _("Currency")],
            rows=[[f.display_id, str(label(AuditRule, f.rule)), f.carrier_name, f.line_name or f.circuit_id,
                   A(f.amount_at_stake), f.currency] for f in found[:TOP_FINDINGS]], numeric={4}),
        "disputes": Table(
            title=_("Disputes about this period"),
            columns=[_("State"), _("Disputes"), _("Claimed"), _("Recovered"), _("Pending"), _("Currency")],
            rows=dispute_rows, numeric={1, 2, 3, 4},
            note=(_("Disputes are per carrier: shown in the report for all departments.") if ctx.department
                  else "" if disputes else _("No dispute about this period."))),
        "recoveries": Table(
            title=_("Disputes resolved in the month"),
            columns=[_("Dispute"), _("Carrier"), _("Period"), _("Resolved"), _("Outcome"), _("Claimed"),
                     _("Recovered"), _("Currency")],
            rows=recovery_rows, numeric={5, 6}, note="" if resolved else _("No dispute resolved in the month.")),
        "credits": Table(
            title=_("Credit notes matched in the month"),
            columns=[_("Dispute"), _("Carrier"), _("Credit note"), _("Confirmed"), _("Recovered"), _("Currency")],
            rows=credit_rows, numeric={4}, note="" if credits else _("No credit note matched in the month.")),
        "budgets": budget_table(ctx.period.year, ctx.period.number, ctx.department),
    }


def _outcome(value: str) -> str:
    from linewatch.choices import DisputeOutcome
    from web.labels import label

    return str(label(DisputeOutcome, value))
