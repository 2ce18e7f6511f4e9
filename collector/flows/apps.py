"""Protocol/port -> application class (``flow_proto.app``). The classes themselves are ``FlowApp`` in choices.py."""

from __future__ import annotations

from linewatch.choices import FlowApp

TCP, UDP, ICMP, ICMP6, GRE, ESP, AH = 6, 17, 1, 58, 47, 50, 51

_PORTS: dict[FlowApp, tuple[tuple[int, tuple[int, ...]], ...]] = {
    FlowApp.WEB: ((TCP, (80, 443, 8080, 8443)), (UDP, (443,))),  # UDP 443: QUIC / HTTP/3
    FlowApp.DNS: ((TCP, (53, 853)), (UDP, (53, 5353))),
    FlowApp.MAIL: ((TCP, (25, 110, 143, 465, 587, 993, 995)),),
    FlowApp.VOICE: ((TCP, (5060, 5061)), (UDP, (5060, 5061, 3478, 3479))),
    FlowApp.VPN: ((UDP, (500, 4500, 1194, 51820)), (TCP, (1194, 1723))),
    FlowApp.REMOTE_ACCESS: ((TCP, (22, 23, 3389, 5900)), (UDP, (3389,))),
    FlowApp.FILE_TRANSFER: ((TCP, (20, 21, 445, 139, 2049, 873)), (UDP, (69, 2049))),
    FlowApp.DATABASE: ((TCP, (1433, 1521, 3306, 5432, 6379, 27017)),),
    FlowApp.DIRECTORY: ((TCP, (88, 389, 636, 3268)), (UDP, (88, 389))),
    FlowApp.NETWORK_MGMT: ((UDP, (123, 161, 162, 514, 67, 68, 2055, 4739, 6343)), (TCP, (179, 830))),
}
_PROTO_ONLY = {ICMP: FlowApp.ICMP, ICMP6: FlowApp.ICMP, GRE: FlowApp.VPN, ESP: FlowApp.VPN, AH: FlowApp.VPN}
RTP_PORTS = range(16384, 32768)  # RTP media as most SIP phones and gateways allocate it

# (proto << 16 | port) -> class: one dict lookup per port on the hot path.
PORT_CLASS: dict[int, str] = {
    proto << 16 | port: app.value for app, entries in _PORTS.items() for proto, ports in entries for port in ports
}


def classify(proto: int, src_port: int, dst_port: int) -> str:
    """The application class of a flow: the destination's well-known port first, then the source's."""
    app = PORT_CLASS.get(proto << 16 | dst_port) or PORT_CLASS.get(proto << 16 | src_port)
    if app is not None:
        return app
    other = _PROTO_ONLY.get(proto)
    if other is not None:
        return other.value
    if proto == UDP:
        if dst_port in RTP_PORTS and src_port in RTP_PORTS:
            return FlowApp.VOICE.value
        return FlowApp.OTHER_UDP.value
    if proto == TCP:
        return FlowApp.OTHER_TCP.value
    return FlowApp.OTHER.value
