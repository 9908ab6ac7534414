"""``python -m bot --check``: what an operator runs before the first start.

Each check prints one line with ✓ or ✗ so a broken deployment says exactly which piece is wrong.
No discord.py here: the composition root passes Discord's REST base (``discord.http.Route.BASE``, which
a launcher may point at a fake), so this module stays a plain HTTP client like the rest of ``bot/``.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import aiohttp

from bot.config import Settings
from bot.minimax.callbacks import CallbackServer, StatusPush
from bot.minimax.errors import AuthFailed, MiniMaxError
from storage import DatabaseUnavailable, StorageError


async def _check_database(settings: Settings) -> tuple[bool, str]:
    from bot.__main__ import open_storage

    try:
        storage = await open_storage(settings)
    except DatabaseUnavailable as exc:
        return False, f"database {settings.database_path}: {exc.reason}"
    except (StorageError, OSError) as exc:
        return False, f"database {settings.database_path}: {exc}"
    try:
        result = await storage.db.integrity_check()
    finally:
        await storage.close()
    if result != "ok":
        return False, f"database {settings.database_path}: integrity check says {result}"
    return True, f"database {settings.database_path}: opened and migrated"


async def _check_minimax(settings: Settings, session: aiohttp.ClientSession) -> tuple[bool, str]:
    from bot.__main__ import make_client

    try:
        await make_client(settings, session).check_key()
    except AuthFailed:
        return False, f"MiniMax API at {settings.minimax_base_url}: MINIMAX_API_KEY was refused"
    except MiniMaxError as exc:
        return False, f"MiniMax API at {settings.minimax_base_url}: {type(exc).__name__}: {exc}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return False, f"MiniMax API at {settings.minimax_base_url}: unreachable ({type(exc).__name__})"
    return True, f"MiniMax API at {settings.minimax_base_url}: key accepted"


async def _check_discord(
    settings: Settings, session: aiohttp.ClientSession, discord_api: str
) -> tuple[bool, str]:
    url = f"{discord_api}/users/@me"
    headers = {"Authorization": f"Bot {settings.discord_token.reveal()}"}
    try:
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=15)) as resp:
            if resp.status == 401:
                return False, "Discord: DISCORD_TOKEN was refused"
            if resp.status != 200:
                return False, f"Discord: unexpected HTTP {resp.status} from /users/@me"
            me = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return False, f"Discord: unreachable ({type(exc).__name__})"
    name = me.get("username", "?") if isinstance(me, dict) else "?"
    return True, f"Discord: token accepted (logged in as {name})"


async def _check_callback(settings: Settings, session: aiohttp.ClientSession) -> tuple[bool, str] | None:
    """Send the API's challenge to CALLBACK_URL, as MiniMax will, and expect the echo.

    The bot's own server answers it: started here for the test, or (when its port is taken) the
    running bot's. This goes out through the public URL (DNS, the reverse proxy, TLS), which is the
    outside as far as this machine can see it; a firewall that lets this machine in but not MiniMax
    cannot be seen from here, and the line says so.
    """
    url = settings.callback_url
    if url is None:
        return None

    async def not_ours(push: StatusPush) -> int:
        return 404

    server = CallbackServer(
        not_ours, path=urlsplit(url).path or "/", host=settings.callback_host, port=settings.callback_port
    )
    started = True
    try:
        await server.start()
    except OSError:
        started = False  # the port is taken, most likely by the running bot: ask it
    token = secrets.token_hex(16)
    try:
        async with session.post(
            url, json={"challenge": token}, timeout=aiohttp.ClientTimeout(total=3)
        ) as resp:
            answer = await resp.json(content_type=None) if resp.status == 200 else None
            status = resp.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return False, (
            f"push notifications: CALLBACK_URL {url} cannot be reached from this machine "
            f"({type(exc).__name__}); check the reverse proxy to {settings.callback_host}:"
            f"{settings.callback_port}"
        )
    finally:
        if started:
            await server.stop()
    if not (isinstance(answer, dict) and answer.get("challenge") == token):
        return False, f"push notifications: CALLBACK_URL {url} answered HTTP {status} without the challenge"
    return True, (
        f"push notifications: CALLBACK_URL {url} answers the challenge (tested from this machine; "
        "a firewall that only lets this machine in cannot be seen from here)"
    )


async def run_checks(settings: Settings, *, discord_api: str) -> int:
    """Print one line per check; 0 when all passed. ``discord_api`` is Discord's REST base URL."""
    print("✓ settings: valid")
    results = [await _check_database(settings)]
    async with aiohttp.ClientSession() as session:
        results.append(await _check_minimax(settings, session))
        results.append(await _check_discord(settings, session, discord_api))
        callback = await _check_callback(settings, session)
        if callback is not None:
            results.append(callback)
    for ok, line in results:
        print(f"{'✓' if ok else '✗'} {line}")
    return 0 if all(ok for ok, _ in results) else 1
