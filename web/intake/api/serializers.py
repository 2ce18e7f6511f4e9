"""Serializers of the intake (read only: files are collected, not written through the API)."""

from __future__ import annotations

from rest_framework import serializers

from web.intake.models import IntakeFile, IntakeMessage


class IntakeFileSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntakeFile
        fields = ("id", "sha256", "filename", "size_bytes", "source", "message", "carrier", "carrier_name", "outcome",
                  "reason", "invoices", "rows_imported", "rows_quarantined", "quarantine", "uploaded_by",
                  "collected_at", "reported_at", "attempts")
        read_only_fields = fields


class IntakeMessageSerializer(serializers.ModelSerializer):
    files = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = IntakeMessage
        fields = ("id", "message_id", "mailbox", "sender", "subject", "received_at", "collected_at", "summary",
                  "seen_again", "files")
        read_only_fields = fields
