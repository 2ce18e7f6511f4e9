"""The roles (Django groups named after :class:`linewatch.choices.Role`) and the model permissions of each.

:func:`sync_roles` makes the groups hold exactly these permissions; migrations call it (with the historical
``apps``) whenever the table changes, so a new model's permissions reach the roles through a migration. It runs
the CURRENT table in every such migration: a permission of a model that does not exist yet at that point of the
migration history is skipped (the later migration creating the model, or one depending on it, calls
``sync_roles`` again); a permission missing from a model that does exist is an error. Codenames are Django's
default ``<action>_<model>``.
"""

from __future__ import annotations

from typing import Any

from linewatch.choices import Role

INVENTORY_MODELS = ("carrier", "billingaccount", "contact", "site", "department", "costcentre", "device", "line",
                    "linemember", "contract", "discount", "credittier", "capacitychange", "contractchange",
                    "plannedmaintenance")
_ALL = ("view", "add", "change", "delete")


def _perms(actions: tuple[str, ...], models: tuple[str, ...], app: str = "inventory") -> set[tuple[str, str]]:
    return {(app, f"{action}_{model}") for action in actions for model in models}


# Documents have only a view permission (their history in the change log); attaching and deleting one follow its
# parent (web/accounts/permissions.py attachment_permitted).
_VIEW = _perms(("view",), (*INVENTORY_MODELS, "document")) | {("audit", "view_objectchange")}

ROLE_PERMISSIONS: dict[Role, set[tuple[str, str]]] = {
    Role.VIEWER: _VIEW,
    # The NOC also records the carriers' planned maintenance (they are the ones the carriers call).
    Role.NOC: _VIEW | {("inventory", "change_line")} | _perms(("add", "change"), ("plannedmaintenance",)),
    Role.ENGINEER: _VIEW | _perms(_ALL, ("line", "linemember", "device", "site", "capacitychange",
                                         "plannedmaintenance")),
    Role.FINANCE: _VIEW | _perms(_ALL, ("carrier", "billingaccount", "contact", "contract", "discount",
                                        "credittier", "department", "costcentre", "contractchange")),
    # Admin also sees and revokes every user's API tokens, and reads the login log (/accounts/tokens/, /audit/logins/).
    Role.ADMIN: _VIEW | _perms(_ALL, INVENTORY_MODELS) | _perms(_ALL, ("user", "group"), app="auth")
    | {("accounts", "view_token"), ("accounts", "delete_token"), ("logins", "view_loginevent")},
}

# Fault tickets (web/faults, docs/faults.md "Who may do what"): every role reports a fault and comments; the NOC and
# engineers work tickets (notify the carrier, resolve with a cause); closing after the review is the engineers';
# finance handles the SLA-credit claims.
_FAULT_REPORT = _perms(("view", "add"), ("ticket",), app="faults") | _perms(("view",), ("ticketevent",), app="faults")
_FAULT_WORK = _FAULT_REPORT | {("faults", "change_ticket")}
_FAULT_CLAIMS = _perms(("view", "change"), ("slaclaim",), app="faults")
for _role, _extra in {
    Role.VIEWER: _FAULT_REPORT,
    Role.NOC: _FAULT_WORK,
    Role.ENGINEER: _FAULT_WORK | {("faults", "close_ticket")},
    Role.FINANCE: _FAULT_REPORT | _FAULT_CLAIMS,
    Role.ADMIN: _FAULT_WORK | _FAULT_CLAIMS | _perms(("close", "delete"), ("ticket",), app="faults")
    | {("faults", "view_alertreceipt")},
}.items():
    ROLE_PERMISSIONS[_role] |= _extra

# Periodic inspections (web/inspections, docs/inspections.md): every role reads them; the NOC and engineers perform
# them (an inspection's results); engineers and admins plan them. The worker creates the inspections themselves.
_INSPECTION_READ = _perms(("view",), ("inspectionplan", "inspection", "inspectionresult"), app="inspections")
_INSPECTION_PERFORM = _INSPECTION_READ | _perms(("change",), ("inspection", "inspectionresult"), app="inspections")
_INSPECTION_PLAN = _INSPECTION_PERFORM | _perms(_ALL, ("inspectionplan",), app="inspections")
for _role, _extra in {Role.VIEWER: _INSPECTION_READ, Role.NOC: _INSPECTION_PERFORM, Role.FINANCE: _INSPECTION_READ,
                      Role.ENGINEER: _INSPECTION_PLAN, Role.ADMIN: _INSPECTION_PLAN}.items():
    ROLE_PERMISSIONS[_role] |= _extra

# The outbox and message templates (web/notify, docs/notify.md): admins see the outbox and retry expired messages,
# and edit every template; engineers and the NOC edit the templates of a carrier (the views refuse them the defaults).
_TEMPLATE_EDIT = _perms(("view", "add", "change"), ("messagetemplate",), app="notify")
for _role, _extra in {
    Role.NOC: _TEMPLATE_EDIT,
    Role.ENGINEER: _TEMPLATE_EDIT,
    Role.ADMIN: _perms(_ALL, ("messagetemplate",), app="notify") | _perms(("view", "change"), ("outboxmessage",),
                                                                          app="notify")
    | {("notify", "view_outboxattachment")},  # the names and sizes of a message's files on the outbox page
}.items():
    ROLE_PERMISSIONS[_role] |= _extra

# Orders (web/orders, docs/orders.md "Who may do what"): every role reads them; the NOC, engineers and finance request
# them, comment and attach files; engineers and finance work them (steps, assignees, the checklist). Who makes which
# move of an order's state machine is web/orders/workflow.py's table (admin: every manual move).
_ORDER_MODELS = ("order", "orderstep", "orderevent", "recoveryitem", "orderattachment")
_ORDER_READ = _perms(("view",), _ORDER_MODELS, app="orders")
_ORDER_REQUEST = _ORDER_READ | _perms(("add",), ("order", "orderevent", "orderattachment"), app="orders")
_ORDER_WORK = _ORDER_REQUEST | _perms(("change",), ("order", "orderstep", "recoveryitem"), app="orders") \
    | _perms(("add",), ("recoveryitem",), app="orders")
for _role, _extra in {Role.VIEWER: _ORDER_READ, Role.NOC: _ORDER_REQUEST, Role.ENGINEER: _ORDER_WORK,
                      Role.FINANCE: _ORDER_WORK,
                      Role.ADMIN: _ORDER_WORK | _perms(("delete",), ("orderattachment",), app="orders")}.items():
    ROLE_PERMISSIONS[_role] |= _extra

# Finance overview (web/finance, docs/finance.md): every role reads budgets, actual costs, KPIs and the chargeback;
# finance keeps the budgets (add, edit, import). Actual costs are written by the audit only.
_FINANCE_READ = _perms(("view",), ("budget", "costactual"), app="finance")
for _role in Role:
    ROLE_PERMISSIONS[_role] |= _FINANCE_READ
ROLE_PERMISSIONS[Role.FINANCE] |= _perms(_ALL, ("budget",), app="finance")

# Invoices (web/invoices, docs/invoices.md "Who may do what"): every role reads them and their rows and history;
# finance approves (withholding disputed amounts or not), schedules and records the payment. The admin does neither
# (segregation of duties: who manages the users does not pay the carriers). The worker mirrors and audits them.
_INVOICE_READ = _perms(("view",), ("invoice", "invoicerow", "invoiceevent"), app="invoices")
for _role in Role:
    ROLE_PERMISSIONS[_role] |= _INVOICE_READ
ROLE_PERMISSIONS[Role.FINANCE] |= {("invoices", "approve_invoice"), ("invoices", "pay_invoice")}


# Findings and disputes (web/findings, docs/disputes.md "Who may do what"): every role reads findings, suppression
# rules and disputes; finance triages findings (accept, reopen), keeps the suppression rules and works the disputes
# (open, send, answer, resolve: web/findings/workflow.py); admins manage the suppression rules but do not triage.
_FINDING_READ = _perms(("view",), ("finding", "suppressionrule", "dispute", "disputeevent"), app="findings")
_SUPPRESSION_MANAGE = _perms(_ALL, ("suppressionrule",), app="findings")
for _role in Role:
    ROLE_PERMISSIONS[_role] |= _FINDING_READ
ROLE_PERMISSIONS[Role.FINANCE] |= _SUPPRESSION_MANAGE | _perms(("change",), ("finding",), app="findings") \
    | _perms(("add", "change"), ("dispute",), app="findings") | _perms(("add",), ("disputeevent",), app="findings")
ROLE_PERMISSIONS[Role.ADMIN] |= _SUPPRESSION_MANAGE

# Credits (web/credits, docs/credits.md): every role reads the credit matches; finance confirms or rejects them and
# links an unmatched credit to a dispute by hand (a confirmed match). Admins do not (segregation of duties).
_CREDIT_READ = _perms(("view",), ("creditmatch",), app="credits")
for _role in Role:
    ROLE_PERMISSIONS[_role] |= _CREDIT_READ
ROLE_PERMISSIONS[Role.FINANCE] |= _perms(("add", "change"), ("creditmatch",), app="credits")

# Invoice intake (web/intake, docs/intake.md): finance sees what was collected and uploads a file by hand (an
# intake file added); admins see it and retry a rejected or failed file. The other roles do not see the intake.
_INTAKE_READ = _perms(("view",), ("intakemessage", "intakefile"), app="intake")
ROLE_PERMISSIONS[Role.FINANCE] |= _INTAKE_READ | {("intake", "add_intakefile")}
ROLE_PERMISSIONS[Role.ADMIN] |= _INTAKE_READ | {("intake", "retry_intakefile")}


# Voice (web/voice, docs/web.md "Voice"): every role reads the extension directory and the trunks' figures; the
# individual calls (numbers dialled: personal data) are for the NOC, engineers, finance and admins, not viewers.
# Engineers (who run the PBX), finance (who charges the calls to departments) and admins keep the directory.
_VOICE_READ = _perms(("view",), ("extension",), app="voice")
for _role in Role:
    ROLE_PERMISSIONS[_role] |= _VOICE_READ
for _role in (Role.NOC, Role.ENGINEER, Role.FINANCE, Role.ADMIN):
    ROLE_PERMISSIONS[_role] |= {("voice", "view_callrecord")}
for _role in (Role.ENGINEER, Role.FINANCE, Role.ADMIN):
    ROLE_PERMISSIONS[_role] |= _perms(_ALL, ("extension",), app="voice")

# Reports (web/reports, docs/reports.md "Schedules and delivery"): the NOC (its weekly report), engineers, finance and
# admins preview any report and read the sent reports and the schedules; engineers, finance and admins keep the
# schedules. The worker writes the deliveries. The capacity outlook page is every role's (inventory.view_line).
_REPORT_READ = _perms(("view",), ("reportschedule", "reportdelivery"), app="reports")
for _role in (Role.NOC, Role.ENGINEER, Role.FINANCE, Role.ADMIN):
    ROLE_PERMISSIONS[_role] |= _REPORT_READ
for _role in (Role.ENGINEER, Role.FINANCE, Role.ADMIN):
    ROLE_PERMISSIONS[_role] |= _perms(_ALL, ("reportschedule",), app="reports")


def _model_exists(apps: Any, app_label: str, codename: str) -> bool:
    """Whether the model of the default permission ``codename`` is in ``apps`` (the migration state)."""
    try:
        apps.get_model(app_label, codename.split("_", 1)[1])
    except LookupError:
        return False
    return True


def sync_roles(apps: Any, schema_editor: Any = None) -> None:
    """Create the role groups and set their permissions (RunPython-compatible)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True  # historical app configs: create_permissions skips them otherwise
        create_permissions(app_config, apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, wanted in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role.value)
        perms = []
        for app_label, codename in sorted(wanted):
            if not _model_exists(apps, app_label, codename):
                continue  # created by a later migration, which syncs the roles again
            try:
                perms.append(permission_model.objects.get(content_type__app_label=app_label, codename=codename))
            except permission_model.DoesNotExist:
                raise LookupError(f"role {role.value}: permission {app_label}.{codename} does not exist") from None
        group.permissions.set(perms)
