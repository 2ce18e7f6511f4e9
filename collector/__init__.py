"""linewatch collectors: SNMP (``collector.snmp``), the simulated agent (``collector.simagent``), flows."""
