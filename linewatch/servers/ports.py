"""Free loopback ports for the local servers the tests and the demo start.

The kernel picks a free port when we bind port 0; we close the socket and hand the number on. Another
process could grab it in between, so launchers that choose their own ports retry with fresh ones when a bind
fails.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])
