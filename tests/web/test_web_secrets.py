"""SNMP credentials are encrypted at rest with the key from the environment and never shown back."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from web.inventory.forms import DeviceForm
from web.inventory.models import Device

pytestmark = pytest.mark.django_db

V3 = {"snmp_version": "3", "snmp_user": "lw", "security_level": "authPriv", "auth_protocol": "SHA",
      "auth_key": "authpass-secret-1", "priv_protocol": "AES-128", "priv_key": "privpass-secret-2"}


def _raw(device: Device) -> dict[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT snmp_community, auth_key, priv_key FROM inventory_device WHERE id = %s", [device.pk])
        community, auth, priv = cur.fetchone()
    return {"snmp_community": community, "auth_key": auth, "priv_key": priv}


def test_snmp_secrets_are_not_stored_in_clear(db):
    device = Device.objects.create(name="r1", address="10.0.0.1", **V3)
    raw = _raw(device)
    assert "authpass-secret-1" not in raw["auth_key"] and "privpass-secret-2" not in raw["priv_key"]
    from django.conf import settings

    key = Fernet(settings.LINEWATCH_CREDENTIALS_KEYS[0])
    assert key.decrypt(raw["auth_key"].encode()).decode() == "authpass-secret-1"
    assert Device.objects.get(pk=device.pk).priv_key == "privpass-secret-2"


def test_community_is_not_stored_in_clear(make_inventory):
    device = make_inventory(0)["device"]
    assert "s3cret-community" not in _raw(device)["snmp_community"]
    assert Device.objects.get(pk=device.pk).snmp_community == "s3cret-community"


def test_rotated_key_still_decrypts_what_the_old_key_stored(db):
    """web.credentials_key lists keys newest first: prepending a new key keeps old secrets readable."""
    from django.conf import settings

    device = Device.objects.create(name="r1", address="10.0.0.1", **V3)
    keys = [Fernet.generate_key().decode(), *settings.LINEWATCH_CREDENTIALS_KEYS]
    with override_settings(LINEWATCH_CREDENTIALS_KEYS=keys):
        assert Device.objects.get(pk=device.pk).auth_key == "authpass-secret-1"


def test_device_form_never_renders_a_stored_secret(make_inventory):
    device = make_inventory(0)["device"]
    html = DeviceForm(instance=device).as_p()
    assert "s3cret-community" not in html
    assert "leave empty to keep it" in html


def test_device_form_redisplay_after_an_error_does_not_echo_the_secret(db):
    form = DeviceForm(data={"name": "bad name", "address": "10.0.0.1", "port": 161, "snmp_version": "2c",
                            "snmp_community": "typed-secret", "timeout_s": 2, "retries": 1})
    assert not form.is_valid()
    assert "name" in form.errors
    assert "typed-secret" not in form.as_p()


def test_device_form_empty_secret_keeps_the_stored_one(make_inventory):
    device = make_inventory(0)["device"]
    data = {"name": device.name, "address": "10.0.0.9", "port": 161, "snmp_version": "2c",
            "snmp_community": "", "timeout_s": 2, "retries": 1, "site": device.site_id}
    form = DeviceForm(data=data, instance=device)
    assert form.is_valid(), form.errors
    form.save()
    device.refresh_from_db()
    assert device.address == "10.0.0.9" and device.snmp_community == "s3cret-community"


def test_admin_device_page_never_renders_the_secret(make_inventory, admin_client):
    device = make_inventory(0)["device"]
    response = admin_client.get(f"/admin/inventory/device/{device.pk}/change/")
    assert response.status_code == 200
    assert b"s3cret-community" not in response.content


def test_device_form_clear_removes_the_stored_secret(make_inventory):
    device = make_inventory(0)["device"]
    device.snmp_version = "3"
    for key, value in V3.items():
        setattr(device, key, value)
    device.snmp_community = ""
    device.save()
    data = {"name": device.name, "address": device.address, "port": 161, "snmp_version": "3", "snmp_user": "lw",
            "security_level": "authNoPriv", "auth_protocol": "SHA", "priv_protocol": "", "timeout_s": 2,
            "retries": 1, "clear_secrets": ["priv_key"]}
    form = DeviceForm(data=data, instance=device)
    assert form.is_valid(), form.errors
    form.save()
    device.refresh_from_db()
    assert device.priv_key == "" and device.auth_key == "authpass-secret-1"


def test_wrong_credentials_key_names_the_field_and_not_the_value(make_inventory):
    from django.core.exceptions import ImproperlyConfigured

    device = make_inventory(0)["device"]
    with override_settings(LINEWATCH_CREDENTIALS_KEYS=[Fernet.generate_key().decode()]), \
            pytest.raises(ImproperlyConfigured, match=r"Device\.snmp_community.*web\.credentials_key") as info:
        Device.objects.get(pk=device.pk)
    assert "s3cret" not in str(info.value)
