"""Serializers of the voice API: extensions (written; validated by ``Extension.full_clean()``, the core's rule) and
calls (read: rows of the call store, not of the app's database)."""

from __future__ import annotations

from rest_framework import serializers

from web.api.serializers import ValidatedModelSerializer
from web.voice.models import Extension


class ExtensionSerializer(ValidatedModelSerializer):
    class Meta:
        model = Extension
        fields = ("id", "number", "department", "name", "cost_centre", "description", "created", "last_updated")
        read_only_fields = ("created", "last_updated")


class CallSerializer(serializers.Serializer):
    """One call attempt as the call store holds it (times in epoch seconds, UTC)."""

    start_s = serializers.FloatField()
    line = serializers.CharField(allow_null=True)
    direction = serializers.CharField(allow_null=True)
    caller = serializers.CharField(allow_null=True)
    callee = serializers.CharField(allow_null=True)
    callee_e164 = serializers.CharField(allow_null=True)
    extension = serializers.CharField(allow_null=True)
    department = serializers.CharField(help_text="from the extension directory; empty when no entry covers it")
    outcome = serializers.CharField(allow_null=True)
    sip_code = serializers.IntegerField(allow_null=True)
    dest_class = serializers.CharField(allow_null=True)
    high_risk = serializers.BooleanField(allow_null=True)
    duration_s = serializers.FloatField(allow_null=True)
    billsec_s = serializers.FloatField(allow_null=True)
    billed_s = serializers.FloatField(allow_null=True)
    cost = serializers.FloatField(allow_null=True)
    currency = serializers.CharField(allow_null=True)
    rate_prefix = serializers.CharField(allow_null=True)
    band = serializers.CharField(allow_null=True)
