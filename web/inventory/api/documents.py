"""``/api/inventory/documents/``: list (filter by carrier, contract, line, kind), multipart upload, download, delete.

The checks are the upload form's (:func:`web.inventory.documents.prepare_document`), the permissions the pages'
(:func:`web.accounts.permissions.attachment_permitted`: a document follows its parent).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request

from linewatch.choices import DocumentKind
from web.accounts.permissions import (
    attachment_permitted,
    read_only_message,
    read_only_refuses,
    restrict_attachments,
)
from web.api.permissions import METHOD_ACTIONS, request_token
from web.api.serializers import field_errors
from web.inventory import documents
from web.inventory.models import Carrier, Contract, Document, Line
from web.inventory.uploads import install_size_limit
from web.labels import choices_of

_PARENTS = {"carrier": Carrier, "contract": Contract, "line": Line}


class DocumentSerializer(serializers.ModelSerializer):
    """Give exactly one of ``carrier``, ``contract``, ``line`` and the ``file`` (multipart/form-data)."""

    carrier = serializers.PrimaryKeyRelatedField(queryset=Carrier.objects.all(), required=False, allow_null=True)
    contract = serializers.PrimaryKeyRelatedField(queryset=Contract.objects.all(), required=False, allow_null=True)
    line = serializers.PrimaryKeyRelatedField(queryset=Line.objects.all(), required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=choices_of(DocumentKind), required=False)
    file = serializers.FileField(write_only=True, allow_empty_file=True,
                                 help_text="the document; its type is recognised from the content")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ("id", "carrier", "contract", "line", "kind", "title", "file", "file_name", "size_bytes",
                  "sha256", "content_type", "uploaded_by", "uploaded_by_name", "uploaded_at", "download_url")
        read_only_fields = ("file_name", "size_bytes", "sha256", "content_type", "uploaded_by",
                            "uploaded_by_name", "uploaded_at")

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, document: Document) -> str:
        url = reverse("api:inventory-api:document-download", args=[document.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        parents = [attrs[name] for name in _PARENTS if attrs.get(name) is not None]
        request = self.context["request"]
        if len(parents) == 1 and not attachment_permitted(request.user, type(parents[0]), "add",
                                                          token=request_token(request)):
            raise exceptions.PermissionDenied()
        try:
            attrs["document"] = documents.prepare_document(
                carrier=attrs.get("carrier"), contract=attrs.get("contract"), line=attrs.get("line"),
                kind=attrs.get("kind"), title=attrs.get("title"), upload=attrs.get("file"))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(field_errors(exc)) from None
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Document:
        try:
            return documents.add_document(validated_data["document"], user=self.context["request"].user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(field_errors(exc)) from None


class DocumentPermission(permissions.BasePermission):
    """Listing needs the view permission of some parent model; uploading and deleting, the change permission of
    some parent model (the document's own parent is checked on the object)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        action_name = METHOD_ACTIONS.get(request.method or "")
        if action_name is None or action_name == "change":
            return False
        if read_only_refuses(Document._meta.app_label, action_name):
            self.message = read_only_message()
            return False
        return any(attachment_permitted(request.user, model, action_name, token=request_token(request))
                   for model in _PARENTS.values())


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    queryset = Document.objects.select_related("carrier", "contract", "line")
    serializer_class = DocumentSerializer
    permission_classes = (DocumentPermission,)
    parser_classes = (MultiPartParser, FormParser)
    filterset_fields = ("carrier", "contract", "line", "kind")

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        # Before DRF (or its CSRF check) reads the body: a file over the limit is dropped as it arrives.
        if request.method == "POST":
            install_size_limit(request, documents.limits().max_size_bytes)
        return super().initialize_request(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return restrict_attachments(super().get_queryset(), self.request.user, token=request_token(self.request))

    def perform_destroy(self, instance: Document) -> None:
        if not attachment_permitted(self.request.user, type(instance.parent), "delete",
                                    token=request_token(self.request)):
            raise exceptions.PermissionDenied()
        documents.delete_document(instance)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="the file, as an attachment, with its detected Content-Type")})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        return documents.download_response(self.get_object())
