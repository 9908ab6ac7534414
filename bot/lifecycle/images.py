"""Fetch a member's image at submit time and hand it to the API as a ``data:`` URL.

Discord's CDN URLs are signed and expire, and the API may not be able to reach them at all; sending
the bytes inline means the API never depends on Discord. The bytes are read at submit time, not at
request time, so a request answers within Discord's three seconds however large the image is.
"""

from __future__ import annotations

import asyncio
import base64
import logging

import aiohttp

from bot.i18n import translate

log = logging.getLogger(__name__)

MAX_IMAGE_FETCH_BYTES = 20 * 1024 * 1024
# A frame of a delivered video (Extend, Loop): ``videoframe:<task id>:<first|last>``, stored as the
# medium's URL and turned into image bytes at submit time by the submitter's ``frames`` hook
# (:meth:`bot.lifecycle.sequels.Sequels.frame_data_url`); a frame is megabytes, too big to store.
FRAME_SCHEME = "videoframe:"
_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=15, sock_read=30)


class ImageUnavailable(Exception):
    """The image could not be fetched; ``str()`` is safe to show to the member."""


def sniff_image_type(head: bytes) -> str | None:
    """The MIME type from the file's magic bytes; the server's Content-Type is not trusted."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _known_unsupported(head: bytes) -> bool:
    """Formats we can name that the API refuses (GIF, BMP, TIFF): refusing now beats a failed task."""
    return head.startswith((b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*"))


async def fetch_data_url(
    session: aiohttp.ClientSession, url: str, *, max_bytes: int = MAX_IMAGE_FETCH_BYTES
) -> str:
    """``data:image/...;base64,...`` for the image at ``url``, or :class:`ImageUnavailable`."""
    if url.startswith("data:image/"):
        return url
    try:
        async with session.get(url, timeout=_TIMEOUT) as resp:
            declared = (resp.content_type or "").lower()
            if resp.status != 200:
                raise ImageUnavailable(translate("en", "image.fetch.gone"))
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise ImageUnavailable(translate("en", "image.fetch.too_large"))
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.content.iter_chunked(256 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ImageUnavailable(translate("en", "image.fetch.too_large"))
                chunks.append(chunk)
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        # Unreachable from here is not proof the image is gone: the API fetches public URLs itself,
        # so hand it the URL and let it judge rather than fail a request that may well succeed.
        log.warning("Could not fetch an image (%s); passing its URL to the API", type(exc).__name__)
        return url
    except aiohttp.ClientError:
        raise ImageUnavailable(translate("en", "image.fetch.download_failed")) from None
    data = b"".join(chunks)
    mime = sniff_image_type(data[:16])
    if mime is None:
        if declared.startswith("image/") and not _known_unsupported(data[:16]):
            # Served as an image but in a form we cannot read (a format we do not sniff, a CDN's
            # placeholder): the API fetches URLs itself, so let it judge rather than fail here.
            log.warning("An image served as %s has unrecognised bytes; passing its URL to the API", declared)
            return url
        raise ImageUnavailable(translate("en", "image.fetch.not_an_image"))
    # Up to 20 MB of base64 takes long enough to stall every other coroutine: off the event loop.
    encoded = await asyncio.to_thread(base64.b64encode, data)
    return f"data:{mime};base64,{encoded.decode('ascii')}"
