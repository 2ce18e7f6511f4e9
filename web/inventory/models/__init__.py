from web.inventory.models.carriers import BillingAccount, Carrier, Contact
from web.inventory.models.contracts import Contract, ContractChange, CreditTier, Discount
from web.inventory.models.devices import Device
from web.inventory.models.documents import Document
from web.inventory.models.lines import CapacityChange, Line, LineMember
from web.inventory.models.maintenance import PlannedMaintenance
from web.inventory.models.organisation import CostCentre, Department, Site

__all__ = [
    "BillingAccount",
    "CapacityChange",
    "Carrier",
    "Contact",
    "Contract",
    "ContractChange",
    "CostCentre",
    "CreditTier",
    "Department",
    "Device",
    "Discount",
    "Document",
    "Line",
    "LineMember",
    "PlannedMaintenance",
    "Site",
]
