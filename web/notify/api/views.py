"""``/api/notify/``: the outbox (admins, ``?status=pending|delivered|expired``) and the message templates, read-only,
with the pages' permissions (the default permission class checks ``notify.view_<model>``)."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from linewatch.choices import DeliveryStatus
from web.accounts.permissions import restrict
from web.api.permissions import request_token
from web.notify.models import MessageTemplate, OutboxAttachment, OutboxMessage
from web.notify.outbox import with_attachment_names


class OutboxAttachmentSerializer(serializers.ModelSerializer):
    """A file of a message: its name, type, size and SHA-256 (not the bytes)."""

    class Meta:
        model = OutboxAttachment
        fields = ("filename", "content_type", "size", "sha256")
        read_only_fields = fields


class OutboxMessageSerializer(serializers.ModelSerializer):
    about_type = serializers.SlugRelatedField(slug_field="model", read_only=True)
    attachments = OutboxAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = OutboxMessage
        fields = ("id", "key", "recipients", "subject", "text", "html", "language", "about_type", "about_id",
                  "status", "created", "send_after", "next_attempt", "delivered_at", "expired_at", "attempts",
                  "last_error", "attempt_log", "attachments")
        read_only_fields = fields


class MessageTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageTemplate
        fields = ("id", "kind", "carrier", "language", "subject", "body", "created", "last_updated")
        read_only_fields = fields


class OutboxMessageViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = OutboxMessage.objects.all()
    serializer_class = OutboxMessageSerializer

    def get_queryset(self) -> QuerySet[OutboxMessage]:
        qs = restrict(super().get_queryset(), self.request.user, "view", token=request_token(self.request))
        qs = with_attachment_names(qs.select_related("about_type"))
        status = self.request.query_params.get("status")
        return qs.filter(status=status) if status in set(DeliveryStatus) else qs


class MessageTemplateViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = MessageTemplate.objects.all()
    serializer_class = MessageTemplateSerializer

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        return restrict(super().get_queryset(), self.request.user, "view", token=request_token(self.request))
