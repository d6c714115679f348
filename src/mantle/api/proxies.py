"""Who is calling, address-wise: the TCP peer, unless the peer is a reverse proxy the settings
trust (`MANTLE_SERVER__TRUSTED_PROXIES`), in which case `X-Forwarded-For` names the client.

Anyone can send `X-Forwarded-For`; only the entries appended by trusted proxies are believed.
The header is read from the right (each proxy appends the address it saw), skipping trusted
proxies; the first other address is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def is_trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: Sequence[str], networks: Sequence[Network]) -> str:
    """`forwarded_for`: every `X-Forwarded-For` header of the request, in order."""
    if not is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed([hop for hop in hops if hop]):
        client = hop
        if not is_trusted(hop, networks):
            break
    return client
