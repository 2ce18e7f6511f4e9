"""Django REST framework and drf-spectacular settings (imported by web/settings_common.py)."""

REST_FRAMEWORK = {
    # The token first: an unauthenticated request gets 401 with "WWW-Authenticate: Bearer".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "web.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["web.api.permissions.ModelActionPermission"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "web.api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "linewatch API",
    "DESCRIPTION": "The inventory of the linewatch management application: carriers, sites, departments, "
                   "cost centres, devices, lines with their member interfaces, contracts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,  # write-only secrets appear in requests only
    # Two models have a "role" field with different choices: name each set after its enumeration.
    "ENUM_NAME_OVERRIDES": {
        "ContactRoleEnum": "web.api.schema.contact_roles",
        "LineMemberRoleEnum": "web.api.schema.line_member_roles",
        # A line's type (inventory, new-line orders), an order's state (its stage, an event's from/to), and the
        # "state" fields of tickets, SLA claims and inspections: one name per enumeration.
        "LineTypeEnum": "web.api.schema.line_types",
        "OrderStateEnum": "web.api.schema.order_states",
        "TicketStateEnum": "web.api.schema.ticket_states",
        "SlaClaimStateEnum": "web.api.schema.sla_claim_states",
        "InspectionStateEnum": "web.api.schema.inspection_states",
        "InvoiceStateEnum": "web.api.schema.invoice_states",  # an invoice's state, its events' from/to
        "IntakeOutcomeEnum": "web.api.schema.intake_outcomes",  # an intake file's outcome
        "IntakeSourceKindEnum": "web.api.schema.intake_sources",  # where an intake file came from
        "DisputeStateEnum": "web.api.schema.dispute_states",  # a dispute's state, its events' from/to
        "DisputeOutcomeEnum": "web.api.schema.dispute_outcomes",  # a resolved dispute, and the resolve request
        "InspectionOutcomeEnum": "web.api.schema.inspection_outcomes",  # an inspection item's result
        # Languages: the messages' and disputes' (codes), a report's (each language named in itself).
        "LanguageEnum": "web.notify.models.LANGUAGE_CHOICES",
        "ReportLanguageEnum": "web.reports.labels.LANGUAGE_CHOICES",
    },
}
