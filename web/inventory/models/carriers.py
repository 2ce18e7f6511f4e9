"""Carriers, their billing accounts and their contacts (NOC, billing, escalation, sales)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from billing_etl.config import Currency
from linewatch.choices import ContactRole
from linewatch.urls import check_http_url
from web.audit.models import ChangeLoggedModel
from web.inventory.validation import validate_value
from web.labels import choices_of


class Carrier(ChangeLoggedModel):
    name = models.CharField(_("name"), max_length=128, unique=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True,
                                help_text=_("ISO 4217 code of the carrier's invoices, e.g. EUR"))
    portal_url = models.CharField(_("portal URL"), max_length=500, blank=True,
                                  help_text=_("the carrier's customer portal (no user name or password in it)"))
    description = models.TextField(_("description"), blank=True)
    # Accounts payable (web/invoices): the ERP's supplier number and the late-payment fee of the carrier's terms.
    vendor_number = models.CharField(_("vendor number"), max_length=64, blank=True,
                                     help_text=_("the carrier's supplier number in the ERP (accounts payable)"))
    late_fee_pct = models.DecimalField(_("late fee (% per month)"), max_digits=7, decimal_places=4, null=True,
                                       blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)],
                                       help_text=_("charged on an invoice paid after its due date, per month late"))

    class Meta:
        ordering = ("name",)
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("inventory:carrier_detail", args=[self.pk])

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.currency:
            try:
                validate_value(Currency, self.currency, field="currency")
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if self.portal_url:
            try:
                self.portal_url = check_http_url(self.portal_url)
            except ValueError as exc:
                errors["portal_url"] = [str(exc)]
        if errors:
            raise ValidationError(errors)


class BillingAccount(ChangeLoggedModel):
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT,
                                related_name="billing_accounts")
    number = models.CharField(_("account number"), max_length=64)
    name = models.CharField(_("name"), max_length=128, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ("carrier", "number")
        verbose_name = _("billing account")
        verbose_name_plural = _("billing accounts")
        constraints = (models.UniqueConstraint(fields=("carrier", "number"), name="billing_account_unique_number"),)

    def __str__(self) -> str:
        return f"{self.carrier} {self.number}"


class Contact(ChangeLoggedModel):
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.CASCADE,
                                related_name="contacts")
    role = models.CharField(_("role"), max_length=16, choices=choices_of(ContactRole))
    name = models.CharField(_("name"), max_length=128)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), null=True, blank=True, help_text=_("1 is called first"))
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ("carrier", "role", "escalation_level", "name")
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_role_display()})"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if not self.email and not self.phone:
            errors["email"] = [_("give an email address or a phone number")]
        if self.role == ContactRole.ESCALATION and self.escalation_level is None:
            errors["escalation_level"] = [_("an escalation contact needs its level")]
        if errors:
            raise ValidationError(errors)
