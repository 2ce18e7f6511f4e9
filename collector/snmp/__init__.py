"""SNMP for the collector: BER codec, clients behind :class:`SnmpClient`, and the factory that picks one."""

from collector.snmp.factory import make_client
from collector.snmp.protocol import MAX_VARBINDS_PER_GET, SnmpClient, V3Credentials, Value

__all__ = ["MAX_VARBINDS_PER_GET", "SnmpClient", "V3Credentials", "Value", "make_client"]
