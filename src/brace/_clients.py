"""Who a client is, for counting: the peer address brace was given (uvicorn has already applied
the trusted proxies' `X-Forwarded-For`), with IPv6 clients grouped by /64."""

from __future__ import annotations

import functools
import ipaddress

__all__ = ["client_group"]


@functools.lru_cache(maxsize=4096)  # the same clients come back: parse each address once
def client_group(host: str) -> str:
    """What one client is, for counting: its IPv4 address, or its IPv6 /64 (one customer
    line gets a whole /64, and would otherwise have 2**64 fresh counters)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return f"{ipaddress.ip_network(f'{address}/64', strict=False).network_address}/64"
    return host
