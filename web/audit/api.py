"""``/api/audit/changes/``: the change log, read-only, with the pages' rule (:mod:`web.audit.permissions`), the
pages' filters (``user``, ``type``, ``action``, ``address``, ``since``, ``until``, ``request_id``) and secrets masked.
``/api/audit/logins/``: the login log, read-only, for those who may read it (the admin role), with the login tab's
filters (``user``, ``kind``, ``address``, ``since``, ``until``, ``request_id``)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers, viewsets
from rest_framework.routers import DefaultRouter

from web.accounts.logins.models import LoginEvent
from web.audit.filtersets import LoginEventFilterSet, ObjectChangeFilterSet
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


class LoginEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = LoginEvent
        fields = ("id", "time", "kind", "user_name", "remote_addr", "request_id", "backend")
        read_only_fields = fields


class LoginEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Login-log rows, newest first (the default permission class checks ``logins.view_loginevent``)."""

    queryset = LoginEvent.objects.all()
    serializer_class = LoginEventSerializer
    filterset_class = LoginEventFilterSet


router = DefaultRouter()
router.register("changes", ObjectChangeViewSet)
router.register("logins", LoginEventViewSet)

app_name = "audit-api"
urlpatterns = router.urls
