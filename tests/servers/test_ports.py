"""Free-port helpers hand out loopback ports that can actually be bound."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from linewatch.servers import free_tcp_port, free_udp_port


@pytest.mark.parametrize(
    ("pick", "kind"),
    [(free_tcp_port, socket.SOCK_STREAM), (free_udp_port, socket.SOCK_DGRAM)],
    ids=["tcp", "udp"],
)
def test_free_port_is_bindable_on_loopback(pick: Callable[[], int], kind: int) -> None:
    port = pick()
    assert 1024 <= port <= 65535
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", port))
