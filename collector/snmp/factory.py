"""Pick the SNMP client for a device: v2c -> the fast hand-written client, v3 -> the pysnmp client."""

from __future__ import annotations

from collector.snmp.protocol import SnmpClient, V3Credentials


def make_client(
    *,
    device_name: str,
    host: str,
    port: int,
    timeout_s: float,
    retries: int,
    v2c_community: str | None = None,
    v3: V3Credentials | None = None,
) -> SnmpClient:
    """Build the client for one device; exactly one of ``v2c_community`` and ``v3`` must be given."""
    if (v2c_community is None) == (v3 is None):
        raise ValueError(f"{device_name}: give exactly one of v2c_community and v3 credentials")
    if v3 is not None:
        from collector.snmp.pysnmp_client import PysnmpV3Client  # pysnmp import is slow: only when needed

        return PysnmpV3Client(
            device_name=device_name,
            host=host,
            port=port,
            timeout_s=timeout_s,
            retries=retries,
            credentials=v3,
        )
    from collector.snmp.v2c_client import V2cClient

    assert v2c_community is not None
    return V2cClient(
        device_name=device_name,
        host=host,
        port=port,
        community=v2c_community,
        timeout_s=timeout_s,
        retries=retries,
    )
