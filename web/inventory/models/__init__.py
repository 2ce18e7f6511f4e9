from web.inventory.models.carriers import BillingAccount, Carrier, Contact
from web.inventory.models.contracts import Contract, CreditTier, Discount
from web.inventory.models.devices import Device
from web.inventory.models.documents import Document
from web.inventory.models.lines import Line, LineMember
from web.inventory.models.organisation import CostCentre, Department, Site

__all__ = [
    "BillingAccount",
    "Carrier",
    "Contact",
    "Contract",
    "CostCentre",
    "CreditTier",
    "Department",
    "Device",
    "Discount",
    "Document",
    "Line",
    "LineMember",
    "Site",
]
