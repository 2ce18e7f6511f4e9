"""Local server launchers for the tests and the demo: private influxd and snmpd on 127.0.0.1 free ports."""

from linewatch.servers.influxd import InfluxdServer
from linewatch.servers.ports import free_tcp_port, free_udp_port
from linewatch.servers.snmpd import SnmpdServer, SnmpV3User

__all__ = ["InfluxdServer", "SnmpdServer", "SnmpV3User", "free_tcp_port", "free_udp_port"]
