"""The only ways an order changes (Zulip's ``do_*`` actions): create, move (:func:`transition`), comment, assign a
step, tick a recovery item, attach a file. Each is atomic, checks the actor's role (:mod:`web.orders.workflow`),
writes an :class:`OrderEvent` and, where someone must know, queues a message in the outbox in the same transaction.
Pages, the API and the worker's jobs all call these; ``user=None`` is linewatch itself (the worker).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from linewatch.choices import ChangeKind, LineStatus, OrderEventKind, OrderKind, OrderState, Role
from web.inventory.models import CapacityChange, Contract, ContractChange, Line, LineMember
from web.orders import messages
from web.orders.models import Order, OrderAttachment, OrderEvent, OrderStep, RecoveryItem
from web.orders.workflow import BY_NAME, ChangeFacts, Move, moves_from, roles_for, step_moves

SYSTEM_NAME = "linewatch"
TERMS = ContractChange.TERMS  # mrc, commit_bps, price_per_mbps, included_gb, price_per_gb


class OrderError(Exception):
    """A move or an action refused."""


class NotPermitted(OrderError):
    """The actor's role does not own the move (HTTP 403): ``roles`` names the roles that do."""

    def __init__(self, move: str, roles: Iterable[Role]):
        self.move, self.roles = move, sorted(r.value for r in roles)
        who = ", ".join(self.roles) or _("linewatch only (automatic)")
        super().__init__(_("%(move)s needs the role %(roles)s") % {"move": move, "roles": who})


class NotAvailable(OrderError):
    """The move does not exist for this order's kind or state (HTTP 409)."""

    def __init__(self, order: Order, move: str):
        self.move = move
        super().__init__(_("%(move)s is not possible for a %(kind)s order in state %(state)s") % {
            "move": move, "kind": order.kind, "state": order.state})


# -- who ---------------------------------------------------------------------------------------------------------


def user_roles(user: Any) -> frozenset[Role]:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(Role)
    names = set(user.groups.values_list("name", flat=True))
    return frozenset(r for r in Role if r.value in names)


def change_facts(order: Order) -> ChangeFacts:
    return ChangeFacts(
        capacity_or_port=bool(order.capacity_bps or order.site_id or order.carrier_id or order.device_id),
        terms=any(getattr(order, name) is not None for name in TERMS))


def move_roles(order: Order, move: Move) -> frozenset[Role]:
    return roles_for(move, kind=order.kind_enum, state=order.state_enum, facts=change_facts(order))


def may_move(order: Order, move: Move, user: Any) -> bool:
    if user is None:
        return True
    roles = move_roles(order, move)
    if move.name == "cancel" and order.requester_id == getattr(user, "pk", None) \
            and order.state == OrderState.REQUESTED:
        return True  # the requester withdraws the request
    return bool(user_roles(user) & roles)


def available_moves(order: Order, user: Any) -> list[Move]:
    """The moves ``user`` may make on ``order`` by hand now (the page's buttons)."""
    return [m for m in moves_from(order.kind_enum, order.state_enum)
            if move_roles(order, m) and may_move(order, m, user)]


def _actor_name(user: Any) -> str:
    return user.get_username() if user is not None else SYSTEM_NAME


def _event(order: Order, kind: OrderEventKind, *, user: Any, text: str = "", data: Mapping[str, Any] | None = None,
           move: Move | None = None, source: str = "", now: dt.datetime | None = None) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, kind=kind.value, actor=user, actor_name=_actor_name(user), text=text, data=dict(data or {}),
        transition=move.name if move else "", source=source, target=move.target.value if move else "",
        time=now or timezone.now())


# -- creating ----------------------------------------------------------------------------------------------------

REQUEST_FIELDS: dict[OrderKind, tuple[str, ...]] = {
    OrderKind.NEW_LINE: ("line_name", "line_type", "site", "capacity_bps", "department", "justification",
                         "budget_amount", "currency", "carrier", "quote_amount"),
    OrderKind.CHANGE: ("line", "change_kind", "capacity_bps", "site", "carrier", "circuit_id", "device",
                       "interface", *TERMS, "effective_at", "justification", "budget_amount", "currency"),
    OrderKind.TERMINATION: ("line", "requested_date", "notice_date", "justification"),
}
REQUIRED: dict[OrderKind, tuple[str, ...]] = {
    OrderKind.NEW_LINE: ("line_name", "line_type", "site", "capacity_bps", "department"),
    OrderKind.CHANGE: ("line", "change_kind"),
    OrderKind.TERMINATION: ("line", "requested_date"),
}


def _require(order: Order, names: Iterable[str]) -> None:
    missing = {n: [_("required for this step")] for n in names if getattr(order, n, None) in (None, "")}
    if missing:
        raise ValidationError(missing)


def _assign_values(order: Order, values: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValidationError({name: [_("not a field of this step")] for name in unknown})
    for name, value in values.items():
        setattr(order, name, value)


def _check_order(order: Order) -> None:
    order.full_clean(exclude=["state", "requester", "requester_name"], validate_constraints=False)


def create_order(*, kind: OrderKind, user: Any, values: Mapping[str, Any], recovery_items: Iterable[str] = (),
                 now: dt.datetime | None = None) -> Order:
    """A new order in state ``requested`` by ``user``, with one step per stage and its first event."""
    order = Order(kind=kind.value, requester=user, requester_name=_actor_name(user))
    _assign_values(order, values, REQUEST_FIELDS[kind])
    _require(order, REQUIRED[kind])
    errors: dict[str, list[str]] = {}
    if kind is OrderKind.NEW_LINE and Line.objects.filter(name=order.line_name).exists():
        errors["line_name"] = [_("a line %(name)s exists already") % {"name": order.line_name}]
    if kind is not OrderKind.NEW_LINE and order.line is not None:
        if order.line.status == LineStatus.DECOMMISSIONED:
            errors["line"] = [_("line %(line)s is decommissioned") % {"line": order.line}]
        elif Order.objects.filter(line=order.line, kind=kind.value).exclude(
                state__in=[s.value for s in OrderState if s.final]).exists():
            errors["line"] = [_("line %(line)s has an open order of this kind") % {"line": order.line}]
    if kind is OrderKind.CHANGE:
        _check_change(order, errors)
    if errors:
        raise ValidationError(errors)
    _check_order(order)
    with transaction.atomic():
        order.save()
        for position, move in enumerate(step_moves(kind), start=1):
            OrderStep.objects.create(order=order, position=position, stage=move.target.value)
        for name in recovery_items:
            if name.strip():
                RecoveryItem.objects.create(order=order, name=name.strip())
        _event(order, OrderEventKind.TRANSITION, user=user, text=order.justification,
               data={"kind": kind.value}, now=now)
    return order


def _check_change(order: Order, errors: dict[str, list[str]]) -> None:
    kind = ChangeKind(order.change_kind) if order.change_kind else None
    line = order.line
    if kind in (ChangeKind.BANDWIDTH_UP, ChangeKind.BANDWIDTH_DOWN):
        if not order.capacity_bps:
            errors["capacity_bps"] = [_("a bandwidth change needs the new capacity")]
        elif line is not None:
            now = line.capacity_at(order.effective_at or timezone.now())
            if kind is ChangeKind.BANDWIDTH_UP and order.capacity_bps <= now:
                errors["capacity_bps"] = [_("%(new)s bit/s is not above the capacity %(now)s bit/s") % {
                    "new": order.capacity_bps, "now": now}]
            if kind is ChangeKind.BANDWIDTH_DOWN and order.capacity_bps >= now:
                errors["capacity_bps"] = [_("%(new)s bit/s is not below the capacity %(now)s bit/s") % {
                    "new": order.capacity_bps, "now": now}]
    if kind is ChangeKind.MOVE and order.site is None:
        errors["site"] = [_("a move needs the new site")]
    if kind is ChangeKind.CARRIER_CHANGE and order.carrier is None:
        errors["carrier"] = [_("a carrier change needs the new carrier")]
    if order.effective_at is not None and timezone.is_naive(order.effective_at):
        errors["effective_at"] = [_("give the time zone of the effective moment")]


# -- moving ------------------------------------------------------------------------------------------------------


def transition(order: Order, name: str, *, user: Any, values: Mapping[str, Any] | None = None,
               text: str = "", now: dt.datetime | None = None) -> Order:
    """Make the move ``name`` on ``order`` as ``user`` (None: linewatch) with the step's ``values``; the state, its
    side effects on the line, the step done and the event in one transaction. Returns the order as saved.
    NotAvailable / NotPermitted / ValidationError (naming the field) otherwise, nothing changed."""
    now = now or timezone.now()
    move = BY_NAME.get(name)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if move is None or not can_proceed(getattr(order, move.name)):
            raise NotAvailable(order, name)
        if not may_move(order, move, user):
            raise NotPermitted(name, move_roles(order, move))
        source = order.state
        data = _BEFORE.get(name, _no_values)(order, dict(values or {}), user, now) or {}
        getattr(order, move.name)()
        order.save()
        OrderStep.objects.filter(order=order, stage=move.target.value, done_at__isnull=True).update(
            done_at=now, done_by_name=_actor_name(user))
        _event(order, OrderEventKind.TRANSITION, user=user, move=move, source=source, text=text, data=data, now=now)
        after = _AFTER.get(name)
        if after is not None:
            after(order, user, now)
    return order


def _no_values(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> None:
    _assign_values(order, values, ())


# new line


def _approve(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("carrier", "quote_amount", "currency", "line_name"))
    _require(order, ("carrier", "line_name", "line_type", "site", "department", "capacity_bps"))
    if Line.objects.filter(name=order.line_name).exists():
        raise ValidationError({"line_name": [_("a line %(name)s exists already") % {"name": order.line_name}]})
    line = Line(name=order.line_name, carrier=order.carrier, circuit_id=order.circuit_id or f"ORDER-{order.pk}",
                type=order.line_type, status=LineStatus.PLANNED.value, site=order.site, department=order.department,
                capacity_bps=order.capacity_bps, description=_("ordered by order #%(pk)s") % {"pk": order.pk})
    line.full_clean()
    line.save()
    order.line = line
    _contract_draft(order)
    return {"line": line.name}


def _contract_draft(order: Order) -> None:
    """The line's contract from the quote (a draft finance completes), once the quote is known."""
    if order.quote_amount is None or order.line is None:
        return
    contract = Contract.objects.filter(line=order.line).first() or Contract(line=order.line)
    contract.mrc = order.quote_amount
    if order.currency:
        contract.currency = order.currency
    contract.full_clean()
    contract.save()


def _place_order(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("carrier", "quote_amount", "currency", "carrier_order_ref", "promised_date",
                                   "circuit_id"))
    _require(order, ("carrier", "carrier_order_ref", "promised_date"))
    line = order.line
    line.carrier = order.carrier
    line.circuit_id = order.circuit_id or order.carrier_order_ref
    line.full_clean()
    line.save()
    _contract_draft(order)
    return {"carrier_order_ref": order.carrier_order_ref, "promised_date": str(order.promised_date)}


def _install(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("device", "interface", "circuit_id"))
    _require(order, ("device", "interface"))
    line = order.line
    if not line.members.filter(device=order.device, interface=order.interface).exists():  # listed already: kept
        member = LineMember(line=line, device=order.device, interface=order.interface)
        try:
            member.full_clean()
        except ValidationError as exc:
            raise ValidationError({"interface": exc.messages}) from None
        member.save()
    if order.circuit_id:
        line.circuit_id = order.circuit_id
    line.status = LineStatus.PROVISIONING.value
    line.install_date = timezone.localdate(now)
    line.full_clean()
    line.save()
    return {"device": order.device.name, "interface": order.interface}


def _after_install(order: Order, user: Any, now: dt.datetime) -> None:
    # installed -> in_acceptance at once: the collector polls the line from now on (provisioning).
    start = BY_NAME["start_acceptance"]
    _start_acceptance(order, {}, user, now)
    getattr(order, start.name)()
    order.save()
    _event(order, OrderEventKind.TRANSITION, user=None, move=start, source=OrderState.INSTALLED.value, now=now,
           text=_("acceptance started"))


def _start_acceptance(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ())
    order.acceptance_started_at = now
    order.acceptance = None
    OrderStep.objects.filter(order=order, stage__in=(OrderState.IN_ACCEPTANCE, OrderState.ACCEPTED)).update(
        done_at=None, done_by_name="")
    return {"started": now.isoformat()}


def _accept(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("acceptance",))
    line = order.line
    line.status = LineStatus.ACTIVE.value
    line.full_clean()
    line.save()
    return {"figures": (order.acceptance or {}).get("figures", {})}


def _fail_acceptance(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("acceptance",))
    result = order.acceptance or {}
    return {"figures": result.get("figures", {}), "failures": result.get("failures", []),
            "failure_codes": result.get("failure_codes", [])}


def _after_fail_acceptance(order: Order, user: Any, now: dt.datetime) -> None:
    messages.attention(order, stage=OrderState.IN_ACCEPTANCE, reason="acceptance_failed",
                       failures=(order.acceptance or {}).get("failures", []), now=now)


# change


def _agree(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("capacity_bps", *TERMS, "effective_at", "circuit_id", "device", "interface"))
    errors: dict[str, list[str]] = {}
    _check_change(order, errors)
    if errors:
        raise ValidationError(errors)
    _check_order(order)
    return {name: str(getattr(order, name)) for name in ("capacity_bps", *TERMS) if getattr(order, name) is not None}


def _schedule(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("effective_at",))
    _require(order, ("effective_at",))
    if timezone.is_naive(order.effective_at):
        raise ValidationError({"effective_at": [_("give the time zone of the effective moment")]})
    return {"effective_at": order.effective_at.isoformat()}


def _apply(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    """The change takes effect: a capacity version, a contract version, the line's new site/carrier/port."""
    _assign_values(order, values, ())
    line = Line.objects.select_for_update().get(pk=order.line_id)
    effective = order.effective_at or now
    data: dict[str, Any] = {"effective_at": effective.isoformat()}
    if order.capacity_bps:
        order.old_capacity_bps = line.capacity_at(effective - dt.timedelta(microseconds=1))
        change = CapacityChange(line=line, effective=effective, capacity_bps=order.capacity_bps)
        change.full_clean()
        change.save()
        data["capacity_bps"] = [order.old_capacity_bps, order.capacity_bps]
    terms = {name: getattr(order, name) for name in TERMS if getattr(order, name) is not None}
    if terms:
        contract = Contract.objects.filter(line=line).first()
        if contract is None:
            raise ValidationError({"mrc": [_("line %(line)s has no contract to change") % {"line": line}]})
        day = timezone.localdate(effective)
        contract_change = ContractChange.objects.filter(contract=contract, effective=day).first() or ContractChange(
            contract=contract, effective=day)
        for name, value in terms.items():
            setattr(contract_change, name, value)
        contract_change.full_clean()
        contract_change.save()
        data["contract_change"] = {"effective": day.isoformat(), **{k: str(v) for k, v in terms.items()}}
    if order.site_id:
        line.site = order.site
    if order.carrier_id:
        line.carrier = order.carrier
        line.circuit_id = order.circuit_id or line.circuit_id
    elif order.circuit_id:
        line.circuit_id = order.circuit_id
    if order.device_id and order.interface:
        _move_port(line, order)
        data["port"] = f"{order.device.name} {order.interface}"
    line.full_clean()
    line.save()
    return data


def _move_port(line: Line, order: Order) -> None:
    """The line's single member moves to the order's port (a move: the new site's router)."""
    members = list(line.members.all())
    member = members[0] if len(members) == 1 else LineMember(line=line)
    for extra in members[1:]:
        extra.delete()
    member.device, member.interface, member.if_index = order.device, order.interface, None
    try:
        member.full_clean()
    except ValidationError as exc:
        raise ValidationError({"interface": exc.messages}) from None
    member.save()


def _verify(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("verification",))
    return {"verification": order.verification or {"by_hand": True}}


# termination


def _check_notice(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    from web.orders.termination import compute_terms

    _assign_values(order, values, ("requested_date", "notice_date", "fee_acknowledged"))
    if order.notice_date is None:
        order.notice_date = timezone.localdate(now)
    _require(order, ("requested_date",))
    terms = compute_terms(order.line, notice_date=order.notice_date, requested_date=order.requested_date)
    order.terms = terms
    if terms["early"] and not order.fee_acknowledged:
        raise ValidationError({"fee_acknowledged": [_(
            "%(date)s is before the earliest date without a fee (%(free)s): acknowledge the early-termination "
            "fee of %(fee)s %(currency)s") % {"date": order.requested_date, "free": terms["earliest_free_date"],
                                              "fee": terms["fee"], "currency": terms["currency"]}]})
    return {"terms": terms}


def _confirm_carrier(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ("carrier_confirmation_ref", "carrier_confirmed_on", "requested_date"))
    if order.carrier_confirmed_on is None:
        order.carrier_confirmed_on = timezone.localdate(now)
    _require(order, ("carrier_confirmation_ref",))
    return {"carrier_confirmation_ref": order.carrier_confirmation_ref,
            "requested_date": str(order.requested_date)}


def _set_line_status(order: Order, status: LineStatus, **fields: Any) -> None:
    line = Line.objects.get(pk=order.line_id)
    line.status = status.value
    for name, value in fields.items():
        setattr(line, name, value)
    line.full_clean()
    line.save()


def _deprovision(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ())
    _set_line_status(order, LineStatus.DEPROVISIONING)
    return {}


def _recover_equipment(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ())
    open_items = list(order.recovery_items.filter(done=False).values_list("name", flat=True))
    if open_items:
        raise ValidationError({"recovery_items": [_("not recovered yet: %(items)s") % {
            "items": ", ".join(open_items)}]})
    return {"items": list(order.recovery_items.values_list("name", flat=True))}


def _complete(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ())
    today = timezone.localdate(now)
    if order.requested_date is None or order.requested_date > today:
        raise ValidationError({"requested_date": [_("the termination date %(date)s has not come yet") % {
            "date": order.requested_date}]})
    _set_line_status(order, LineStatus.DECOMMISSIONED, termination_date=order.requested_date)
    return {"termination_date": str(order.requested_date)}


def _after_complete(order: Order, user: Any, now: dt.datetime) -> None:
    if messages.termination_notice(order, now=now):
        order.completion_notice_sent_at = now
        Order.objects.filter(pk=order.pk).update(completion_notice_sent_at=now)


def _cancel(order: Order, values: dict[str, Any], user: Any, now: dt.datetime) -> dict[str, Any]:
    _assign_values(order, values, ())
    return {}


_BEFORE: dict[str, Callable[[Order, dict[str, Any], Any, dt.datetime], dict[str, Any] | None]] = {
    "approve": _approve, "place_order": _place_order, "install": _install, "start_acceptance": _start_acceptance,
    "accept": _accept, "fail_acceptance": _fail_acceptance, "agree": _agree, "schedule": _schedule,
    "apply": _apply, "verify": _verify, "check_notice": _check_notice, "confirm_carrier": _confirm_carrier,
    "deprovision": _deprovision, "recover_equipment": _recover_equipment, "complete": _complete,
    "cancel": _cancel, "reject": _cancel,
}
_AFTER: dict[str, Callable[[Order, Any, dt.datetime], None]] = {
    "install": _after_install, "fail_acceptance": _after_fail_acceptance, "complete": _after_complete,
}

# Fields each move accepts (the API's and the forms' input), from the handlers above.
MOVE_FIELDS: dict[str, tuple[str, ...]] = {
    "approve": ("carrier", "quote_amount", "currency"),
    "place_order": ("carrier", "quote_amount", "currency", "carrier_order_ref", "promised_date", "circuit_id"),
    "install": ("device", "interface", "circuit_id"),
    "agree": ("capacity_bps", *TERMS, "effective_at"),
    "schedule": ("effective_at",),
    "check_notice": ("requested_date", "notice_date", "fee_acknowledged"),
    "confirm_carrier": ("carrier_confirmation_ref", "carrier_confirmed_on", "requested_date"),
}


# -- the other actions -------------------------------------------------------------------------------------------


def _require_role(user: Any, roles: Iterable[Role], action: str) -> None:
    roles = frozenset(roles) | {Role.ADMIN}
    if not user_roles(user) & roles:
        raise NotPermitted(action, roles)


WORKING_ROLES = frozenset({Role.NOC, Role.ENGINEER, Role.FINANCE})  # comment, attach
STEP_ROLES = frozenset({Role.ENGINEER, Role.FINANCE})  # assign, due dates, checklist


def comment(order: Order, *, user: Any, text: str) -> OrderEvent:
    _require_role(user, WORKING_ROLES, "comment")
    if not text.strip():
        raise ValidationError({"text": [_("write a comment")]})
    with transaction.atomic():
        return _event(order, OrderEventKind.COMMENT, user=user, text=text.strip())


def assign_step(step: OrderStep, *, user: Any, assignee: Any = None, due_date: dt.date | None = None,
                now: dt.datetime | None = None) -> OrderStep:
    """Set a step's assignee and due date; a new assignee is told (``order_assigned``, once per step and user)."""
    _require_role(user, STEP_ROLES, "assign")
    now = now or timezone.now()
    with transaction.atomic():
        step = OrderStep.objects.select_for_update().get(pk=step.pk)
        changed = {}
        if step.assignee_id != (assignee.pk if assignee else None):
            changed["assignee"] = assignee.get_username() if assignee else None
        if step.due_date != due_date:
            changed["due_date"] = due_date.isoformat() if due_date else None
        if not changed:
            return step
        step.assignee, step.due_date = assignee, due_date
        step.save()
        _event(step.order, OrderEventKind.ASSIGNMENT, user=user, data={"step": step.stage, **changed}, now=now)
        if "assignee" in changed and assignee is not None:
            messages.assigned(step, now=now)
    return step


def set_recovery_item(item: RecoveryItem, *, user: Any, done: bool) -> RecoveryItem:
    _require_role(user, STEP_ROLES, "recovery")
    with transaction.atomic():
        item.done = done
        item.done_by_name = _actor_name(user) if done else ""
        item.done_at = timezone.now() if done else None
        item.save()
    return item


def add_recovery_item(order: Order, *, user: Any, name: str) -> RecoveryItem:
    _require_role(user, STEP_ROLES, "recovery")
    if not name.strip():
        raise ValidationError({"name": [_("name the item")]})
    return RecoveryItem.objects.create(order=order, name=name.strip())


def add_attachment(order: Order, *, user: Any, upload: Any, title: str = "") -> OrderAttachment:
    """Check the file as the inventory's documents are, store it privately, record the row and an event."""
    from web.inventory.documents import check_file, store

    _require_role(user, WORKING_ROLES, "attach")
    checked = check_file(upload)
    if order.attachments.filter(sha256=checked.sha256).exists():
        raise ValidationError({"file": [_("this file is already attached here")]})
    files = store()
    name = files.save(upload)
    try:
        with transaction.atomic():
            attachment = OrderAttachment.objects.create(
                order=order, title=title.strip(), file_name=checked.file_name, size_bytes=checked.size_bytes,
                sha256=checked.sha256, content_type=checked.content_type, storage_name=name,
                uploaded_by_name=_actor_name(user))
            _event(order, OrderEventKind.ATTACHMENT, user=user, text=str(attachment),
                   data={"file_name": checked.file_name, "sha256": checked.sha256})
    except BaseException:
        files.delete(name)
        raise
    return attachment

