"""Which download URLs the bot may fetch, and whether what came back is a video.

The download URL comes from the API's answer (or a reseller's), and the body is uploaded to a channel
as the member's video: a URL pointing inside the operator's network (loopback, a private range, a
cloud metadata address) would let whoever controls that answer read internal services through the
bot. So every hop of a download, redirects included, is checked here before it is requested:

- the scheme is ``http`` or ``https``;
- the host, and every address it resolves to, is public: no loopback, private, link-local,
  reserved, multicast or unspecified address (an IPv4-mapped IPv6 address counts as its IPv4 one);
- except the very host *and port* of ``MINIMAX_BASE_URL``, compared as written, so a local stand-in
  of the API (a reseller on the same machine, the test fake) still serves its own files. Host and
  port, not host alone: another service on the API's machine is not the API.

A name is resolved with the event loop's ``getaddrinfo`` and every address returned is checked; the
connection then resolves again, so a name that answers differently a moment later (DNS rebinding) is
not covered here. The body must start with an MP4 ``ftyp`` box before it is kept.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket

from yarl import URL

from bot.minimax.errors import DownloadError, NotAVideo, UnsafeDownload

log = logging.getLogger("bot.minimax")

ALLOWED_SCHEMES = frozenset({"http", "https"})
MAX_REDIRECTS = 5
REDIRECT_HTTP = frozenset({301, 302, 303, 307, 308})
MP4_SNIFF_BYTES = 8  # a box's 4-byte size, then its type: "ftyp" first in every MP4

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _endpoint(url: URL) -> tuple[str, int | None]:
    return (url.host or "").lower().rstrip("."), url.port


def forbidden_kind(address: IPAddress) -> str | None:
    """Why ``address`` may not be fetched (``"loopback"``, ``"private"``...), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, hit in (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("private", address.is_private),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),  # shared (100.64/10), documentation ranges...
    ):
        if hit:
            return kind
    return None


def is_mp4(head: bytes) -> bool:
    """True when ``head`` (the body's first bytes) opens with an MP4 ``ftyp`` box."""
    return len(head) >= MP4_SNIFF_BYTES and head[4:8] == b"ftyp"


class DownloadGuard:
    """Checks a download URL (each hop) against the rules above; ``trusted`` is the API's base URL."""

    def __init__(self, trusted: str) -> None:
        self._trusted = _endpoint(URL(trusted))

    async def check(self, url: URL) -> None:
        """Raise :class:`UnsafeDownload` (logged with the host) unless ``url`` may be fetched."""
        host = url.host or ""
        if url.scheme not in ALLOWED_SCHEMES:
            self._refuse(host or "?", f"its scheme {url.scheme!r} is not http or https")
        if not host:
            self._refuse("?", "it names no host")
        if _endpoint(url) == self._trusted:
            return  # the API's own host and port, as configured
        for address in await self._addresses(url):
            kind = forbidden_kind(address)
            if kind is not None:
                self._refuse(host, f"it resolves to {address}, a {kind} address")

    async def _addresses(self, url: URL) -> list[IPAddress]:
        host = url.host or ""
        try:
            return [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, url.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            # A failing resolver may recover; the fetch is retried like a dropped connection.
            raise DownloadError(f"cannot resolve the download host {host} ({type(exc).__name__})") from None
        addresses = []
        for *_, sockaddr in infos:
            text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 scope ("fe80::1%eth0") is no part of it
            addresses.append(ipaddress.ip_address(text))
        if not addresses:
            self._refuse(host, "it resolves to no address")
        return addresses

    @staticmethod
    def _refuse(host: str, why: str) -> None:
        log.warning("minimax download refused: host %s, because %s", host, why)
        raise UnsafeDownload(f"download from {host} refused: {why}")


def not_a_video(host: str) -> NotAVideo:
    """The error (logged with the host) for a body that is not an MP4."""
    log.warning("minimax download refused: host %s sent something that is not an MP4 video", host)
    return NotAVideo(f"the download from {host} is not an MP4 video (no ftyp box)")
