"""Outbound fetch for API routes: public ``https://`` only, checked on the resolved address.

Deno's ``--allow-net`` takes host names, and a name can resolve to anything (or to
something else a second later: DNS rebinding). So routes never connect out themselves:
their ``fetch`` is a request to the platform endpoint, and this module resolves the name
once, refuses the request if any address is loopback, private, link-local, shared,
multicast, reserved or a cloud metadata address, and connects to the address it checked
(TLS still verifies the certificate for the name). Redirects are followed here, each hop
checked the same way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

__all__ = ["HOP_HEADERS", "Egress", "FetchAnswer", "Refused", "address_refusal", "parse_hosts"]

MAX_REDIRECTS = 5  # as browsers cap chains long before their 20
#: Cloud metadata services, refused by name as well as by range.
METADATA_ADDRESSES = frozenset(
    {"169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2"}
)
#: Hop-by-hop headers (and those the host sets itself): never passed on, either way.
HOP_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class Refused(Exception):
    """The fetch is not allowed; the message says why, for the route's author."""


@dataclass
class FetchAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = field(repr=False)


def parse_hosts(text: str) -> dict[str, str]:
    """``name=address,…`` (STAGE_API_FETCH_HOSTS) as a mapping."""
    pairs = (entry.split("=", 1) for entry in text.split(",") if entry.strip())
    return {name.strip().lower(): address.strip() for name, address in pairs}


def address_refusal(address: str) -> str | None:
    """Why a route may not connect to ``address``, or None when it is a public address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if str(ip) in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for kind, test in (
        ("a loopback address", ip.is_loopback),
        ("a link-local address", ip.is_link_local),
        ("a private address", ip.is_private),
        ("a multicast address", ip.is_multicast),
        ("a reserved address", ip.is_reserved or ip.is_unspecified),
    ):
        if test:
            return kind
    if not ip.is_global:
        return "not a public address"
    return None


class Egress:
    """Checks and sends the routes' outbound requests (one per process, shared)."""

    def __init__(
        self,
        *,
        hosts: Mapping[str, str] | None = None,
        max_bytes: int,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.hosts = dict(hosts or {})
        self.max_bytes = max_bytes
        self._client = httpx.AsyncClient(
            timeout=timeout_s, follow_redirects=False, transport=transport, trust_env=False
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def resolve(self, name: str, port: int) -> list[str]:
        if name.lower() in self.hosts:
            return [self.hosts[name.lower()]]
        try:
            ipaddress.ip_address(name)
            return [name]
        except ValueError:
            pass
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                name, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise Refused(f"refused: {name} does not resolve ({exc.strerror or exc})") from exc
        return sorted({str(info[4][0]) for info in infos})

    async def check(self, url: str) -> tuple[str, str, int]:
        """The (host name, checked address, port) to connect to for ``url``."""
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise Refused(
                f"refused: only https:// URLs may be fetched from an API route, "
                f"not {parts.scheme or 'a relative'}:// ones"
            )
        name = parts.hostname or ""
        if not name:
            raise Refused("refused: the URL has no host")
        port = parts.port or 443
        addresses = await self.resolve(name, port)
        for address in addresses:  # every answer, so a second lookup cannot pick a bad one
            why = address_refusal(address)
            if why is not None:
                shown = name if name == address else f"{name} ({address})"
                raise Refused(
                    f"refused: {shown} is {why}; API routes may only fetch public "
                    "internet addresses"
                )
        return name, addresses[0], port

    async def fetch(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> FetchAnswer:
        """Send the request to the checked address, following checked redirects."""
        for _ in range(MAX_REDIRECTS + 1):
            name, address, port = await self.check(url)
            parts = urlsplit(url)
            host = f"[{address}]" if ":" in address else address
            target = parts._replace(netloc=f"{host}:{port}").geturl()
            sent = {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS}
            sent["host"] = parts.netloc.rsplit("@", 1)[-1]
            request = self._client.build_request(
                method,
                target,
                headers=sent,
                content=body or None,
                extensions={"sni_hostname": name},
            )
            try:
                response = await self._client.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise ConnectionError(f"fetch {url}: {exc}") from exc
            try:
                location = response.headers.get("location")
                if response.status_code in (301, 302, 303, 307, 308) and location:
                    url = urljoin(url, location)
                    if response.status_code == 303 or (
                        response.status_code in (301, 302) and method == "POST"
                    ):
                        method, body = "GET", b""
                    continue
                data = bytearray()
                async for chunk in response.aiter_raw():
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise Refused(
                            f"refused: the answer from {name} is larger than "
                            f"{self.max_bytes} bytes (STAGE_API_MAX_RESPONSE_BYTES)"
                        )
                kept = [
                    (k, v)
                    for k, v in response.headers.multi_items()
                    if k.lower() not in HOP_HEADERS
                ]
                return FetchAnswer(response.status_code, kept, bytes(data))
            finally:
                await response.aclose()
        raise Refused(f"refused: more than {MAX_REDIRECTS} redirects from {url}")
