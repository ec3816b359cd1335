"""A client's address: which one a request comes from, and the keyed hash the server writes instead of it.

A client's IP address is personal data (docs/security.md, "Client addresses").

- `client_of(peer, forwarded, trusted)`: behind a reverse proxy every request comes from the proxy. Only when
  the peer is one of the `server.trusted_proxies` is `X-Forwarded-For` read: from the right, each trusted hop
  skipped, the first untrusted address is the client's. A malformed header (a value that is not an address)
  counts for nothing: the peer is the client. A spoofed header from an untrusted peer is never read.
- `address_tag(secret, address)`: "ip:" and the first 16 hex digits of HMAC-SHA256 under the server's secret
  key. The event log and the sign-in throttle keep this tag, never the address: the same address gives the same
  tag (so the throttle still counts it), and without the secret key the tag does not give the address back.
"""
from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

TAG_PREFIX = "ip:"
TAG_HEX = 16

Address = IPv4Address | IPv6Address


def parse_address(text: str) -> Address | None:
    """An address as written in a header or by the server ("[2001:db8::1]" too); IPv4 mapped into IPv6 as IPv4.
    None when it is not an address."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        ip = ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@lru_cache(maxsize=16)
def networks(trusted: tuple[str, ...]) -> tuple:
    """The trusted proxies' networks (a plain address is a network of one); the config has checked them."""
    return tuple(ip_network(t, strict=False) for t in trusted)


def _trusted(ip: Address, nets: tuple) -> bool:
    return any(ip.version == n.version and ip in n for n in nets)


def client_of(peer: str | None, forwarded: list[str], trusted: tuple[str, ...]) -> str:
    """The client's address of a request from `peer` with these `X-Forwarded-For` header values."""
    own = parse_address(peer or "")
    if own is None:
        return peer or "?"
    nets = networks(trusted)
    if not nets or not _trusted(own, nets) or not forwarded:
        return str(own)
    hops = [h for value in forwarded for h in value.split(",")]
    parsed = [parse_address(h) for h in hops]
    if not parsed or any(ip is None for ip in parsed):
        return str(own)  # a malformed header: the peer, never a guess
    for ip in reversed(parsed):
        if not _trusted(ip, nets):
            return str(ip)
    return str(parsed[0])  # every hop is a trusted proxy: the farthest one is the client


def address_tag(secret: str, address: str) -> str:
    """The keyed hash written instead of a client's address: "ip:3fa9..." (16 hex digits)."""
    digest = hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()
    return TAG_PREFIX + digest[:TAG_HEX]


def is_tag(text: str) -> bool:
    return text.startswith(TAG_PREFIX) and len(text) == len(TAG_PREFIX) + TAG_HEX
