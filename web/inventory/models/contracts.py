"""Contracts: every term of contracts.yaml (MRC, commit, billing model, proration, SLA tiers, term, renewal,
notice, discounts with validity). Validated by billing_etl/config.py's models, the ETL's own rules."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from billing_etl import config as billing
from linewatch.choices import BillingModel, GbUnit, ProrationConvention, UsageDirection
from web.audit.models import ChangeLoggedModel
from web.inventory.models.lines import Line
from web.inventory.validation import dated_versions, present, validate
from web.labels import choices_of

_MONEY = {"max_digits": 16, "decimal_places": 4}
_PCT = {"max_digits": 7, "decimal_places": 4}

_CONTRACT_FIELDS = {
    ("line",): "line", ("carrier",): "line", ("currency",): "currency", ("mrc",): "mrc", ("commit_bps",): "commit_bps",
    ("billing", "model"): "billing_model", ("billing", "direction"): "direction",
    ("billing", "price_per_mbps"): "price_per_mbps", ("billing", "included_gb"): "included_gb",
    ("billing", "price_per_gb"): "price_per_gb", ("billing", "gb_unit"): "gb_unit",
    ("proration",): "proration", ("price_per_channel",): "price_per_channel", ("sla", "target_pct"): "sla_target_pct", ("sla", "cap_pct"): "sla_cap_pct",
    ("sla", "credit_tiers"): "sla_target_pct", ("sla",): "sla_target_pct",
    ("term", "start"): "term_start", ("term", "months"): "term_months", ("term", "auto_renew"): "auto_renew",
    ("term", "renewal_months"): "renewal_months", ("term", "notice_days"): "notice_days",
    ("term", "early_termination_pct"): "early_termination_pct", ("term",): "term_start",
}
_BILLING_TAGS = [m.value for m in BillingModel]


class Contract(ChangeLoggedModel):
    line = models.OneToOneField(Line, verbose_name=_("line"), on_delete=models.CASCADE, related_name="contract")
    currency = models.CharField(_("currency"), max_length=3, blank=True,
                                help_text=_("ISO 4217 code; the carrier's currency when empty"))
    mrc = models.DecimalField(_("monthly recurring charge"), **_MONEY)
    commit_bps = models.PositiveBigIntegerField(_("commit (bit/s)"), null=True, blank=True,
                                                help_text=_("the line's capacity when empty"))
    billing_model = models.CharField(_("billing model"), max_length=32, choices=choices_of(BillingModel),
                                     default=BillingModel.FLAT.value)
    direction = models.CharField(_("usage direction"), max_length=8, choices=choices_of(UsageDirection),
                                 default=UsageDirection.MAX.value, help_text=_("burstable 95th percentile only"))
    price_per_mbps = models.DecimalField(_("price per Mbit/s over the commit"), null=True, blank=True, **_MONEY)
    included_gb = models.DecimalField(_("included GB per month"), null=True, blank=True, **_MONEY)
    price_per_gb = models.DecimalField(_("price per GB over the quota"), null=True, blank=True, **_MONEY)
    gb_unit = models.CharField(_("GB unit"), max_length=8, choices=choices_of(GbUnit),
                               default=GbUnit.DECIMAL.value)
    proration = models.CharField(_("proration"), max_length=16, choices=choices_of(ProrationConvention),
                                 default=ProrationConvention.ACTUAL_DAYS.value)
    price_per_channel = models.DecimalField(
        _("price per channel per month"), null=True, blank=True, **_MONEY,
        help_text=_("voice trunks: what one contracted channel costs a month (the saving of fewer channels)"))
    sla_target_pct = models.DecimalField(_("SLA availability target (%)"), null=True, blank=True, **_PCT)
    sla_cap_pct = models.DecimalField(_("SLA credit cap (percent of the MRC)"), default=100, **_PCT)
    term_start = models.DateField(_("term start"), null=True, blank=True)
    term_months = models.PositiveSmallIntegerField(_("term (months)"), null=True, blank=True)
    auto_renew = models.BooleanField(_("renews automatically"), default=False)
    renewal_months = models.PositiveSmallIntegerField(_("renewal (months)"), default=12)
    notice_days = models.PositiveSmallIntegerField(_("notice (days)"), default=90)
    early_termination_pct = models.DecimalField(
        _("early termination fee (%)"), default=100, **_PCT,
        help_text=_("percent of the monthly charges remaining to the term's end charged on early termination"))

    class Meta:
        ordering = ("line",)
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self) -> str:
        return _("contract of %(line)s") % {"line": self.line} if self.line_id else str(_("contract"))

    def get_absolute_url(self) -> str:
        return reverse("inventory:contract_detail", args=[self.pk])

    def as_config(self) -> dict[str, Any]:
        """The contract as a contracts.yaml ``contracts:`` entry."""
        billing_data: dict[str, Any] = {"model": self.billing_model}
        if self.billing_model == BillingModel.BURSTABLE_95:
            billing_data |= present(direction=self.direction)
        if self.billing_model == BillingModel.VOLUME_QUOTA:
            billing_data |= present(gb_unit=self.gb_unit)
        # Terms of another model are passed on, so the ETL's model refuses them (on their own field).
        billing_data |= present(price_per_mbps=self.price_per_mbps, included_gb=self.included_gb,
                                price_per_gb=self.price_per_gb)
        data = present(line=self.line.name if self.line_id else None,
                       carrier=self.line.carrier.name if self.line_id else None,
                       currency=self.currency, mrc=self.mrc, commit_bps=self.commit_bps,
                       proration=self.proration, price_per_channel=self.price_per_channel) | {"billing": billing_data}
        tiers = [t.as_config() for t in self.credit_tiers.all()] if self.pk else []
        if self.sla_target_pct is not None or tiers:
            data["sla"] = present(target_pct=self.sla_target_pct, cap_pct=self.sla_cap_pct) | {"credit_tiers": tiers}
        if self.term_start is not None or self.term_months is not None:
            data["term"] = present(start=self.term_start, months=self.term_months, auto_renew=self.auto_renew,
                                   renewal_months=self.renewal_months, notice_days=self.notice_days,
                                   early_termination_pct=self.early_termination_pct)
        if self.pk:
            data["discounts"] = [d.as_config() for d in self.discounts.all()]
            changes = sorted(self.changes.all(), key=lambda c: c.effective)
            if changes:
                data["changes"] = [c.as_config() for c in changes]
        return data

    def clean(self) -> None:
        validate(billing.Contract, self.as_config(), fields=_CONTRACT_FIELDS, tags=_BILLING_TAGS,
                 model_field="billing_model")
        carrier = self.line.carrier if self.line_id else None
        if carrier is not None and self.currency and carrier.currency and self.currency != carrier.currency:
            raise ValidationError({"currency": [_("%(currency)s differs from carrier currency %(carrier)s") % {
                "currency": self.currency, "carrier": carrier.currency}]})
        if carrier is not None and not self.currency and not carrier.currency:
            raise ValidationError({"currency": [
                _("no currency: give one, or set the currency of carrier %(carrier)s") % {"carrier": carrier}]})


class Discount(ChangeLoggedModel):
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="discounts")
    name = models.CharField(_("name"), max_length=128)
    percent = models.DecimalField(_("percent of the MRC"), null=True, blank=True, **_PCT)
    amount = models.DecimalField(_("amount per month"), null=True, blank=True, **_MONEY)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True, help_text=_("inclusive"))

    class Meta:
        ordering = ("contract", "pk")  # entry order: what the YAML listed, in that order
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")

    def __str__(self) -> str:
        return self.name

    def as_config(self) -> dict[str, Any]:
        return present(name=self.name, percent=self.percent, amount=self.amount, valid_from=self.valid_from,
                       valid_to=self.valid_to)

    def clean(self) -> None:
        validate(billing.Discount, self.as_config(),
                 fields={("name",): "name", ("percent",): "percent", ("amount",): "amount",
                         ("valid_from",): "valid_from", ("valid_to",): "valid_to"},
                 model_field="percent" if self.valid_from is None or self.valid_to is None
                 or self.valid_to >= self.valid_from else "valid_to")


class CreditTier(ChangeLoggedModel):
    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="credit_tiers")
    below_pct = models.DecimalField(_("availability below (%)"), **_PCT)
    credit_pct = models.DecimalField(_("credit (percent of the MRC)"), **_PCT)

    class Meta:
        ordering = ("contract", "pk")  # entry order, as contracts.yaml lists them
        verbose_name = _("SLA credit tier")
        verbose_name_plural = _("SLA credit tiers")

    def __str__(self) -> str:
        return f"< {self.below_pct} %: {self.credit_pct} %"

    def as_config(self) -> dict[str, Any]:
        return present(below_pct=self.below_pct, credit_pct=self.credit_pct)

    def clean(self) -> None:
        fields = {("below_pct",): "below_pct", ("credit_pct",): "credit_pct"}
        validate(billing.CreditTier, self.as_config(), fields=fields, model_field="below_pct")
        if self.contract_id and self.contract.sla_target_pct is not None:
            validate(billing.Sla, {"target_pct": self.contract.sla_target_pct, "credit_tiers": [self.as_config()]},
                     fields={("credit_tiers", 0, "below_pct"): "below_pct"}, model_field="below_pct")


class ContractChange(ChangeLoggedModel):
    """New terms of a contract from ``effective`` on (billing is per day): each term left empty is unchanged.
    contracts.yaml's ``changes`` (billing_etl/config.py ``ContractChange``)."""

    contract = models.ForeignKey(Contract, verbose_name=_("contract"), on_delete=models.CASCADE,
                                 related_name="changes")
    effective = models.DateField(_("effective"), help_text=_("the first day the new terms apply"))
    mrc = models.DecimalField(_("monthly recurring charge"), null=True, blank=True, **_MONEY)
    commit_bps = models.PositiveBigIntegerField(_("commit (bit/s)"), null=True, blank=True)
    price_per_mbps = models.DecimalField(_("price per Mbit/s over the commit"), null=True, blank=True, **_MONEY)
    included_gb = models.DecimalField(_("included GB per month"), null=True, blank=True, **_MONEY)
    price_per_gb = models.DecimalField(_("price per GB over the quota"), null=True, blank=True, **_MONEY)

    TERMS = ("mrc", "commit_bps", "price_per_mbps", "included_gb", "price_per_gb")

    class Meta:
        ordering = ("contract", "effective")
        verbose_name = _("contract change")
        verbose_name_plural = _("contract changes")
        constraints = (models.UniqueConstraint(fields=("contract", "effective"), name="contract_change_unique_day"),)

    def __str__(self) -> str:
        return f"{self.contract}: {self.effective}"

    def get_absolute_url(self) -> str:
        return self.contract.get_absolute_url()

    def as_config(self) -> dict[str, Any]:
        """The change as a ``changes:`` entry: its day and the terms it sets."""
        return present(effective=self.effective, **{name: getattr(self, name) for name in self.TERMS})

    def clean(self) -> None:
        if not self.contract_id or self.effective is None:
            return  # the required-field errors say so
        # The contract with its other changes and this one, as the ETL validates contracts.yaml.
        changes, row = dated_versions(self, self.contract.changes.all())
        config = self.contract.as_config() | {"changes": changes}
        fields = {("changes", row, name): name for name in ("effective", *self.TERMS)}
        validate(billing.Contract, config, fields=fields, tags=_BILLING_TAGS, model_field="effective")
