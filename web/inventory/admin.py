"""The inventory in Django's admin (a fallback until the app's own forms cover every model)."""

from __future__ import annotations

from django.contrib import admin

from web.inventory import forms, models

for model in (models.Site, models.Department, models.CostCentre, models.Carrier, models.BillingAccount,
              models.Contact, models.Discount, models.CreditTier):
    admin.site.register(model)


class LineMemberInline(admin.TabularInline):
    model = models.LineMember
    extra = 0


@admin.register(models.Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ("name", "carrier", "circuit_id", "site", "status", "type", "capacity_bps")
    list_filter = ("status", "type", "carrier", "site")
    search_fields = ("name", "circuit_id")
    inlines = (LineMemberInline,)


@admin.register(models.Device)
class DeviceAdmin(admin.ModelAdmin):
    form = forms.DeviceForm
    list_display = ("name", "address", "port", "snmp_version", "site")


@admin.register(models.Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("line", "mrc", "currency", "billing_model")
