"""Fetch a video the bot posted (a Discord attachment) back to a file, streamed, within a byte cap.

Extend and Loop start from what members see: the posted attachment, whose URL the notifier reads
fresh from the message (Discord signs its CDN links, and they expire). The URL comes from Discord's
own answer, not from a third party, so it is not put through the API download guard; the body still
has to be an MP4 (an ``ftyp`` box first) and within the cap, and goes to ``dest.part`` first so
``dest`` never holds half a video.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import aiohttp

from bot.minimax.download_guard import MP4_SNIFF_BYTES

CHUNK = 256 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=15, sock_read=60)


class AttachmentUnavailable(Exception):
    """The attachment could not be fetched (gone, too big, not a video); ``str()`` says which."""


async def fetch_attachment(session: aiohttp.ClientSession, url: str, dest: Path, *, max_bytes: int) -> int:
    """Stream ``url`` to ``dest``; the bytes written, or :class:`AttachmentUnavailable`."""
    part = dest.with_name(dest.name + ".part")
    written = 0
    try:
        async with session.get(url, timeout=_TIMEOUT) as resp:
            if resp.status != 200:
                raise AttachmentUnavailable(f"Discord answered HTTP {resp.status}")
            if resp.content_length is not None and resp.content_length > max_bytes:
                raise AttachmentUnavailable(f"{resp.content_length} bytes, over {max_bytes}")
            with part.open("wb") as out:
                async for chunk in resp.content.iter_chunked(CHUNK):
                    if written == 0 and chunk[4:8] != b"ftyp" and len(chunk) >= MP4_SNIFF_BYTES:
                        raise AttachmentUnavailable("not an MP4")
                    written += len(chunk)
                    if written > max_bytes:
                        raise AttachmentUnavailable(f"over {max_bytes} bytes")
                    out.write(chunk)
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        raise AttachmentUnavailable(f"{type(exc).__name__}: {exc}") from None
    except AttachmentUnavailable:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
        raise
    if written == 0:
        part.unlink(missing_ok=True)
        raise AttachmentUnavailable("an empty file")
    part.replace(dest)
    return written
