"""Model validation: the YAML's own pydantic rules, reported as Django field errors (NetBox's ``clean()``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction

from linewatch.choices import BillingModel, LineStatus
from web.inventory.models import (
    Carrier,
    Contact,
    Contract,
    CreditTier,
    Device,
    Discount,
    Line,
    LineMember,
)

pytestmark = pytest.mark.django_db


def _errors(obj: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        obj.full_clean()
    return info.value.message_dict


LINE_CASES = [
    pytest.param({"termination_date": dt.date(2020, 1, 1), "install_date": dt.date(2021, 1, 1)},
                 "termination_date", "before install_date", id="terminated-before-installed"),
    pytest.param({"capacity_bps": 0}, "capacity_bps", "greater than 0", id="zero-capacity"),
    pytest.param({"name": "FRA INET"}, "name", "pattern", id="line-id-with-space"),
    pytest.param({"circuit_id": ""}, "circuit_id", "", id="empty-circuit-id"),
]


@pytest.mark.parametrize(("change", "field", "reason"), LINE_CASES)
def test_line_validation_names_the_field(make_inventory, change, field, reason):
    """A bad line value is refused on its own field, with inventory.py's reason."""
    line = make_inventory(1)["lines"][0]
    for key, value in change.items():
        setattr(line, key, value)
    errors = _errors(line)
    assert field in errors, errors
    assert reason in " ".join(errors[field])


def test_line_billing_account_of_another_carrier_is_refused(make_inventory):
    from web.inventory.models import BillingAccount

    inv = make_inventory(1)
    line = inv["lines"][0]
    line.billing_account = BillingAccount.objects.create(carrier=inv["carriers"][1], number="778812")
    assert "billing_account" in _errors(line)


def test_duplicate_circuit_of_a_carrier_is_a_hard_constraint(make_inventory):
    """(carrier, circuit_id) is unique in the database, not only in clean()."""
    inv = make_inventory(1)
    line = inv["lines"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        Line.objects.create(name="OTHER", carrier=line.carrier, circuit_id=line.circuit_id, type=line.type,
                            site=line.site, department=line.department, capacity_bps=1)


MEMBER_CASES = [
    pytest.param({"interface": "ge-0/0/9", "if_index": 9}, "interface", "exactly one", id="interface-and-ifindex"),
    pytest.param({"interface": "", "if_index": None}, "interface", "exactly one", id="no-port"),
]


@pytest.mark.parametrize(("ports", "field", "reason"), MEMBER_CASES)
def test_member_needs_exactly_one_port(make_inventory, ports, field, reason):
    inv = make_inventory(1)
    member = LineMember(line=inv["lines"][0], device=inv["device"], **ports)
    errors = _errors(member)
    assert reason in " ".join(errors[field])


def test_member_port_already_carrying_a_line_is_refused(make_inventory):
    inv = make_inventory(2)
    member = LineMember(line=inv["lines"][1], device=inv["device"], interface="ge-0/0/0")
    assert "already carries line LINE-000" in " ".join(_errors(member)["interface"])


def test_member_port_of_a_decommissioned_line_may_be_reused(make_inventory):
    inv = make_inventory(2)
    old = inv["lines"][0]
    old.status = LineStatus.DECOMMISSIONED
    old.save()
    LineMember(line=inv["lines"][1], device=inv["device"], interface="ge-0/0/0").full_clean()


def test_line_carried_by_several_interfaces(make_inventory):
    """A LAG / primary-backup pair: a second member on another port is accepted."""
    inv = make_inventory(1)
    line = inv["lines"][0]
    member = LineMember(line=line, device=inv["device"], interface="ge-0/0/7", role="backup")
    member.full_clean()
    member.save()
    assert line.members.count() == 2


DEVICE_CASES = [
    pytest.param({"snmp_version": "2c", "snmp_community": ""}, "snmp_community", "must not be empty",
                 id="v2c-empty-community"),
    pytest.param({"snmp_version": "2c", "auth_key": "authpass-123"}, "auth_key", "Extra inputs",
                 id="v2c-with-v3-key"),
    pytest.param({"snmp_version": "3", "snmp_community": "", "snmp_user": "lw", "security_level": "authNoPriv",
                  "auth_protocol": "SHA", "auth_key": "short"}, "security_level", "at least 8",
                 id="v3-short-auth-key"),
    pytest.param({"snmp_version": "3", "snmp_community": "", "snmp_user": "lw", "security_level": "authPriv",
                  "auth_protocol": "SHA", "auth_key": "authpass-123"}, "security_level", "needs priv_protocol",
                 id="v3-authpriv-without-priv"),
    pytest.param({"port": 70000}, "port", "65535", id="port-out-of-range"),
    pytest.param({"timeout_s": 0}, "timeout_s", "greater than 0", id="zero-timeout"),
    pytest.param({"name": "fra edge"}, "name", "pattern", id="name-with-space"),
]


@pytest.mark.parametrize(("change", "field", "reason"), DEVICE_CASES)
def test_device_validation_names_the_field(make_inventory, change, field, reason):
    device = make_inventory(0)["device"]
    for key, value in change.items():
        setattr(device, key, value)
    errors = _errors(device)
    assert field in errors, errors
    assert reason in " ".join(errors[field]), errors


EMPTY_CASES = [
    pytest.param(Device, {"name", "address", "snmp_version"}, id="device"),
    pytest.param(Line, {"name", "carrier", "circuit_id", "type", "site", "department", "capacity_bps"}, id="line"),
    pytest.param(LineMember, {"line", "device"}, id="member"),
    pytest.param(Contract, {"line", "mrc"}, id="contract"),
    pytest.param(Contact, {"carrier", "role", "name", "email"}, id="contact"),
]


@pytest.mark.parametrize(("model", "fields"), EMPTY_CASES)
def test_empty_form_errors_only_on_the_missing_fields(db, model, fields):
    """Regression: a device without SNMP version also had an error on security_level."""
    assert set(_errors(model())) == fields


def test_valid_v3_device_is_accepted(make_inventory):
    site = make_inventory(0)["sites"][0]
    Device(name="r2", address="10.0.0.2", snmp_version="3", snmp_user="lw", security_level="authPriv",
           auth_protocol="SHA-256", auth_key="authpass-123", priv_protocol="AES-128", priv_key="privpass-456",
           site=site).full_clean()


CONTRACT_CASES = [
    pytest.param({"mrc": Decimal(-1)}, "mrc", "greater than or equal to 0", id="negative-mrc"),
    pytest.param({"price_per_mbps": Decimal(9)}, "price_per_mbps", "Extra inputs", id="flat-with-burst-price"),
    pytest.param({"billing_model": BillingModel.BURSTABLE_95}, "price_per_mbps", "required",
                 id="burstable-without-price"),
    pytest.param({"billing_model": BillingModel.VOLUME_QUOTA, "price_per_gb": Decimal("0.05")}, "included_gb",
                 "required", id="quota-without-included-gb"),
    pytest.param({"currency": "EURO"}, "currency", "pattern", id="currency-not-iso"),
    pytest.param({"currency": "ZZZ"}, "currency", "ZZZ", id="currency-unknown"),
    pytest.param({"currency": "USD"}, "currency", "differs from carrier currency EUR", id="currency-not-carriers"),
    pytest.param({"term_start": dt.date(2024, 1, 1)}, "term_months", "required", id="term-without-months"),
    pytest.param({"sla_target_pct": Decimal("99.9")}, "sla_target_pct", "at least 1", id="sla-without-tiers"),
    pytest.param({"sla_target_pct": Decimal(101)}, "sla_target_pct", "less than or equal to 100",
                 id="sla-target-over-100"),
]


@pytest.mark.parametrize(("change", "field", "reason"), CONTRACT_CASES)
def test_contract_validation_names_the_field(make_inventory, change, field, reason):
    """Contract terms are checked by billing_etl/config.py's Contract, the ETL's own rules."""
    line = make_inventory(1)["lines"][0]
    contract = Contract(line=line, **({"mrc": Decimal(100)} | change))
    errors = _errors(contract)
    assert field in errors, errors
    assert reason in " ".join(errors[field]), errors


def test_contract_with_every_term_is_accepted(make_inventory):
    line = make_inventory(1)["lines"][0]
    contract = Contract.objects.create(
        line=line, mrc=Decimal(1800), billing_model=BillingModel.BURSTABLE_95, price_per_mbps=Decimal(9),
        term_start=dt.date(2022, 11, 15), term_months=36, auto_renew=True, notice_days=90)
    CreditTier.objects.create(contract=contract, below_pct=Decimal("99.9"), credit_pct=Decimal(5))
    contract.sla_target_pct = Decimal("99.9")
    Discount.objects.create(contract=contract, name="welcome", percent=Decimal(10),
                            valid_from=dt.date(2024, 4, 1), valid_to=dt.date(2025, 3, 31))
    contract.full_clean()
    assert contract.as_config()["sla"]["credit_tiers"] == [{"below_pct": Decimal("99.9"), "credit_pct": Decimal(5)}]


def test_contract_without_a_line_is_an_error_on_line_only(db):
    errors = _errors(Contract(mrc=Decimal(1)))
    assert set(errors) == {"line"}, errors


def test_contract_of_a_carrier_without_currency_needs_one(make_inventory):
    line = make_inventory(1)["lines"][0]
    Carrier.objects.filter(pk=line.carrier_id).update(currency="")
    line.carrier.refresh_from_db()
    assert "no currency" in " ".join(_errors(Contract(line=line, mrc=Decimal(1)))["currency"])


DISCOUNT_CASES = [
    pytest.param({"percent": Decimal(10), "amount": Decimal(5)}, "percent", "exactly one", id="percent-and-amount"),
    pytest.param({}, "percent", "exactly one", id="neither"),
    pytest.param({"percent": Decimal(10), "valid_from": dt.date(2025, 1, 1), "valid_to": dt.date(2024, 1, 1)},
                 "valid_to", "before valid_from", id="ends-before-start"),
    pytest.param({"percent": Decimal(120)}, "percent", "less than or equal to 100", id="over-100-percent"),
]


@pytest.mark.parametrize(("values", "field", "reason"), DISCOUNT_CASES)
def test_discount_validation_names_the_field(make_inventory, values, field, reason):
    contract = Contract.objects.create(line=make_inventory(1)["lines"][0], mrc=Decimal(100))
    errors = _errors(Discount(contract=contract, name="promo", **values))
    assert reason in " ".join(errors[field]), errors


def test_credit_tier_above_the_target_is_refused(make_inventory):
    contract = Contract.objects.create(line=make_inventory(1)["lines"][0], mrc=Decimal(100),
                                       sla_target_pct=Decimal("99.5"))
    errors = _errors(CreditTier(contract=contract, below_pct=Decimal("99.9"), credit_pct=Decimal(5)))
    assert "above the availability target" in " ".join(errors["below_pct"])


CARRIER_CASES = [
    pytest.param({"portal_url": "https://user:pw@portal.example"}, "portal_url", "user name or password",
                 id="portal-url-with-password"),
    pytest.param({"portal_url": "ftp://portal.example"}, "portal_url", "http", id="portal-url-not-http"),
    pytest.param({"currency": "ZZZ"}, "currency", "ZZZ", id="unknown-currency"),
]


@pytest.mark.parametrize(("values", "field", "reason"), CARRIER_CASES)
def test_carrier_validation_names_the_field(db, values, field, reason):
    errors = _errors(Carrier(name="X", **values))
    assert reason in " ".join(errors[field]), errors
    assert "pw" not in " ".join(errors[field])


def test_escalation_contact_needs_a_level(db):
    carrier = Carrier.objects.create(name="Telia")
    errors = _errors(Contact(carrier=carrier, role="escalation", name="Kim", email="kim@example.com"))
    assert list(errors) == ["escalation_level"]
    assert NON_FIELD_ERRORS not in errors


def test_reactivating_a_line_whose_port_now_carries_another_is_refused(make_inventory):
    """A decommissioned line's port was reused; setting the old line active again names the conflict."""
    inv = make_inventory(2)
    old, new = inv["lines"]
    old.status = LineStatus.DECOMMISSIONED
    old.save()
    LineMember.objects.create(line=new, device=inv["device"], interface="ge-0/0/0", role="backup")
    old.status = LineStatus.ACTIVE
    assert "already carries line LINE-001" in " ".join(_errors(old)["status"])
