"""Serializers of the finance API: budgets (written; validated by ``Budget.full_clean()``), actual costs (read),
and the KPIs (read: computed, not stored)."""

from __future__ import annotations

from rest_framework import serializers

from web.api.serializers import ValidatedModelSerializer
from web.finance.models import Budget, CostActual

AMOUNT = {"max_digits": 14, "decimal_places": 4}


class BudgetSerializer(ValidatedModelSerializer):
    class Meta:
        model = Budget
        fields = ("id", "scope", "department", "cost_centre", "year", "month", "amount", "currency", "note",
                  "created", "last_updated")
        read_only_fields = ("created", "last_updated")


class CostActualSerializer(serializers.ModelSerializer):
    class Meta:
        model = CostActual
        fields = ("id", "period", "line", "line_name", "circuit_id", "carrier_name", "department",
                  "department_name", "cost_centre", "cost_centre_code", "billed_amount", "allocated_amount",
                  "amount", "currency")
        read_only_fields = fields


class AgeingSerializer(serializers.Serializer):
    """The pending amount of open disputes by days since sent."""

    open_0_30 = serializers.DecimalField(**AMOUNT)
    open_31_60 = serializers.DecimalField(**AMOUNT)
    open_61_90 = serializers.DecimalField(**AMOUNT)
    open_over_90 = serializers.DecimalField(**AMOUNT)


class DisputeKpiSerializer(serializers.Serializer):
    carrier = serializers.CharField()
    month = serializers.CharField()
    currency = serializers.CharField()
    disputes = serializers.IntegerField()
    open = serializers.IntegerField()
    claimed = serializers.DecimalField(**AMOUNT)
    recovered = serializers.DecimalField(**AMOUNT)
    pending = serializers.DecimalField(**AMOUNT)
    written_off = serializers.DecimalField(**AMOUNT)
    ageing = AgeingSerializer()
    recovery_rate_pct = serializers.FloatField(allow_null=True)


class PaymentKpiSerializer(serializers.Serializer):
    carrier = serializers.CharField()
    month = serializers.CharField(help_text="the due month, YYYY-MM")
    currency = serializers.CharField()
    invoices = serializers.IntegerField()
    paid_on_time = serializers.IntegerField()
    paid_on_time_amount = serializers.DecimalField(**AMOUNT)
    paid_late = serializers.IntegerField()
    paid_late_amount = serializers.DecimalField(**AMOUNT)
    overdue = serializers.IntegerField()
    overdue_amount = serializers.DecimalField(**AMOUNT)
    late_fees_billed = serializers.DecimalField(**AMOUNT)
    late_fees_avoided = serializers.DecimalField(**AMOUNT)


class BudgetStatusSerializer(serializers.Serializer):
    scope = serializers.CharField()
    target = serializers.CharField(help_text="the department's name or the cost centre's code")
    year = serializers.IntegerField()
    currency = serializers.CharField()
    through = serializers.IntegerField(help_text="the last audited month (0: none)")
    budget_year = serializers.DecimalField(**AMOUNT)
    budget_to_date = serializers.DecimalField(**AMOUNT)
    actual_to_date = serializers.DecimalField(**AMOUNT)
    variance = serializers.DecimalField(**AMOUNT, help_text="actual − budget to date: positive is over budget")
    variance_pct = serializers.FloatField(allow_null=True)
    projection = serializers.DecimalField(**AMOUNT, help_text="year-end projection")
    projected_variance = serializers.DecimalField(**AMOUNT)


class KpisSerializer(serializers.Serializer):
    disputes = DisputeKpiSerializer(many=True)
    payments = PaymentKpiSerializer(many=True)
    budgets = BudgetStatusSerializer(many=True)
