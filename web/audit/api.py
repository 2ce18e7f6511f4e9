"""``/api/audit/changes/``: the change log, read-only, with the pages' rule (:mod:`web.audit.permissions`), the
pages' filters (``user``, ``type``, ``action``, ``since``, ``until``, ``request_id``) and secrets masked."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.routers import DefaultRouter

from web.audit.filtersets import ObjectChangeFilterSet
from web.audit.models import ObjectChange
from web.audit.permissions import visible_changes
from web.audit.views import masked


class ObjectChangeSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    prechange_data = serializers.SerializerMethodField()
    postchange_data = serializers.SerializerMethodField()
    diff = serializers.SerializerMethodField()

    class Meta:
        model = ObjectChange
        fields = ("id", "time", "user_name", "remote_addr", "request_id", "action", "object_type",
                  "changed_object_id", "object_repr", "prechange_data", "postchange_data", "diff")
        read_only_fields = fields

    def get_object_type(self, row: ObjectChange) -> str:
        return f"{row.changed_object_type.app_label}.{row.changed_object_type.model}"

    def get_prechange_data(self, row: ObjectChange) -> dict[str, Any] | None:
        return masked(row)["before"]

    def get_postchange_data(self, row: ObjectChange) -> dict[str, Any] | None:
        return masked(row)["after"]

    def get_diff(self, row: ObjectChange) -> dict[str, Any]:
        return masked(row)["diff"]


class _FilterSet(ObjectChangeFilterSet):
    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any = None, **kwargs: Any) -> None:
        super().__init__(data, queryset, request=request, user=request.user, **kwargs)


class ObjectChangeViewSet(viewsets.ReadOnlyModelViewSet):
    """Change-log rows the user may see, newest first (the default permission class checks
    ``audit.view_objectchange``; the queryset applies the rest of the rule)."""

    queryset = ObjectChange.objects.all()
    serializer_class = ObjectChangeSerializer
    filterset_class = _FilterSet

    def get_queryset(self) -> QuerySet[ObjectChange]:
        return visible_changes(self.request.user).select_related("changed_object_type")


router = DefaultRouter()
router.register("changes", ObjectChangeViewSet)

app_name = "audit-api"
urlpatterns = router.urls
