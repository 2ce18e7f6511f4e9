"""Routers and switches polled over SNMP. Community and SNMPv3 keys are encrypted at rest, never shown back."""

from __future__ import annotations

import typing
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linewatch import inventory as yaml_inventory
from linewatch.choices import SnmpAuthProtocol, SnmpPrivProtocol
from web.audit.models import ChangeLoggedModel
from web.inventory.fields import EncryptedTextField
from web.inventory.models.organisation import Site
from web.inventory.validation import present, validate
from web.labels import choices_of

# The accepted values come from linewatch/inventory.py's own types: never listed twice.
SNMP_VERSIONS = [typing.get_args(m.model_fields["version"].annotation)[0]
                 for m in (yaml_inventory.SnmpV2c, yaml_inventory.SnmpV3)]
SECURITY_LEVELS = list(typing.get_args(yaml_inventory.SnmpV3.model_fields["security_level"].annotation))

_FIELDS = {
    ("name",): "name", ("address",): "address", ("port",): "port", ("timeout_s",): "timeout_s",
    ("retries",): "retries", ("site",): "site", ("snmp", "version"): "snmp_version",
    ("snmp", "community"): "snmp_community", ("snmp", "user"): "snmp_user",
    ("snmp", "security_level"): "security_level", ("snmp", "auth_protocol"): "auth_protocol",
    ("snmp", "auth_key"): "auth_key", ("snmp", "priv_protocol"): "priv_protocol", ("snmp", "priv_key"): "priv_key",
}


class Device(ChangeLoggedModel):
    name = models.CharField(_("name"), max_length=128, unique=True)
    address = models.CharField(_("address"), max_length=255, help_text=_("IP address or DNS name"))
    port = models.PositiveIntegerField(_("SNMP port"), default=161,
                                       validators=[MinValueValidator(1), MaxValueValidator(65535)])
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, null=True, blank=True,
                             related_name="devices")
    snmp_version = models.CharField(_("SNMP version"), max_length=4, choices=[(v, v) for v in SNMP_VERSIONS])
    snmp_community = EncryptedTextField(_("community"), blank=True, help_text=_("SNMPv2c only"))
    snmp_user = models.CharField(_("SNMPv3 user"), max_length=64, blank=True)
    security_level = models.CharField(_("security level"), max_length=16, blank=True,
                                      choices=[(v, v) for v in SECURITY_LEVELS])
    auth_protocol = models.CharField(_("authentication protocol"), max_length=16, blank=True,
                                     choices=choices_of(SnmpAuthProtocol))
    auth_key = EncryptedTextField(_("authentication key"), blank=True)
    priv_protocol = models.CharField(_("privacy protocol"), max_length=16, blank=True,
                                     choices=choices_of(SnmpPrivProtocol))
    priv_key = EncryptedTextField(_("privacy key"), blank=True)
    timeout_s = models.FloatField(_("timeout (s)"), default=2.0)
    retries = models.PositiveSmallIntegerField(_("retries"), default=1)

    secret_fields = ("snmp_community", "auth_key", "priv_key")

    class Meta:
        ordering = ("name",)
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:device_detail", args=[self.pk])

    def as_config(self) -> dict[str, Any]:
        """The device as a lines.yaml ``devices:`` entry (secrets in clear: for the collector only)."""
        if self.snmp_version == "3":
            snmp = present(version="3", community=self.snmp_community, user=self.snmp_user, security_level=self.security_level,
                           auth_protocol=self.auth_protocol, auth_key=self.auth_key,
                           priv_protocol=self.priv_protocol, priv_key=self.priv_key)
        else:
            snmp = present(version=self.snmp_version, community=self.snmp_community,
                           user=self.snmp_user, security_level=self.security_level,
                           auth_protocol=self.auth_protocol, auth_key=self.auth_key,
                           priv_protocol=self.priv_protocol, priv_key=self.priv_key)
            snmp.setdefault("community", "")
        return present(name=self.name, address=self.address, port=self.port, timeout_s=self.timeout_s,
                       retries=self.retries, site=self.site.name if self.site_id else None) | {"snmp": snmp}

    def clean(self) -> None:
        # Without a version the SNMP block cannot be told apart: its error belongs to the version.
        fields = _FIELDS if self.snmp_version else _FIELDS | {("snmp",): "snmp_version"}
        validate(yaml_inventory.Device, self.as_config(), fields=fields, tags=SNMP_VERSIONS,
                 model_field="security_level")
