"""Outbound HTTP to addresses an organisation names (competitor sources, webhooks) reaches public hosts only.

An organisation chooses those URLs, so unchecked they could make the worker fetch its own loopback
services, the private network or a cloud metadata endpoint (169.254.169.254). Every request — each
redirect hop too, since httpx sends every hop through the transport — resolves its host and is refused
unless all the addresses are global or inside OUTBOUND_ALLOWED_NETWORKS (the operator's on-premises
targets). The connection then goes to the address that was checked (the URL is pinned to it; the Host
header and TLS SNI keep the name), so a second DNS answer cannot swap in another address.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]


class BlockedDestination(httpx.TransportError):
    """The host resolves to an address outbound requests may not reach."""


async def resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host` (a literal IP resolves to itself)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise httpx.ConnectError(f"cannot resolve {host!r}: {e.strerror}") from None
    return [str(info[4][0]) for info in infos]


def refusal(address: str, allowed: Sequence[Network]) -> str | None:
    """Why `address` may not be reached, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in network for network in allowed):
        return None
    if ip.is_global and not ip.is_multicast:
        return None
    kind = next(
        (
            name
            for name, flag in (
                ("loopback", ip.is_loopback),
                ("link-local (cloud metadata)", ip.is_link_local),
                ("private", ip.is_private),
                ("multicast", ip.is_multicast),
            )
            if flag
        ),
        "non-public",
    )
    return f"{ip} is a {kind} address"


class PublicOnlyTransport(httpx.AsyncBaseTransport):
    """An httpx transport that connects only to public or operator-allowed addresses."""

    def __init__(self, allowed: Sequence[Network], resolver: Resolver = resolve, **options: Any) -> None:
        self._allowed = tuple(allowed)
        self._resolve = resolver
        self._inner = httpx.AsyncHTTPTransport(**options)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.host
        addresses = await self._resolve(host, url.port or (443 if url.scheme == "https" else 80))
        if not addresses:
            raise httpx.ConnectError(f"cannot resolve {host!r}")
        for address in addresses:
            reason = refusal(address, self._allowed)
            if reason is not None:
                raise BlockedDestination(
                    f"refused to connect to {host!r}: {reason}; outbound requests reach public addresses "
                    "only (an operator can allow on-premises networks with OUTBOUND_ALLOWED_NETWORKS)"
                )
        request.url = url.copy_with(host=addresses[0])
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
