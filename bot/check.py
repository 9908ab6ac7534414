"""``python -m bot --check``: what an operator runs before the first start.

Each check prints one line with ✓ or ✗ so a broken deployment says exactly which piece is wrong;
nothing else reaches the screen (``bot.__main__`` keeps the log's retries and warnings off it).
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
from storage import (
    LATEST_VERSION,
    DatabaseUnavailable,
    SchemaTooNew,
    StorageError,
    inspect_database,
    redact_database_url,
)
from storage.pg import inspect_postgres


async def _check_database(settings: Settings) -> tuple[bool, str]:
    """Looks through a read-only connection: a check creates and migrates nothing, it says what the
    first start would do."""
    if settings.database_url is not None:
        return await _check_postgres(settings.database_url.reveal())
    where = f"database {settings.database_path}"
    try:
        facts = await inspect_database(settings.database_path)
    except DatabaseUnavailable as exc:
        return False, f"{where}: {exc.reason}"
    except (StorageError, OSError) as exc:
        return False, f"{where}: {exc}"
    if not facts.exists:
        return True, f"{where}: not there yet; the first start creates it (schema version {LATEST_VERSION})"
    if facts.version > LATEST_VERSION:
        return False, f"{where}: {SchemaTooNew(facts.version, LATEST_VERSION)}"
    if facts.integrity != "ok":
        return False, f"{where}: integrity check says {' '.join(facts.integrity.split())}"
    if facts.version < LATEST_VERSION:
        return True, (
            f"{where}: schema version {facts.version}; the next start copies it and migrates it "
            f"to version {LATEST_VERSION}"
        )
    return True, f"{where}: schema version {facts.version}, up to date"


async def _check_postgres(url: str) -> tuple[bool, str]:
    """DATABASE_URL's server, read without writing; messages name the URL without its password."""
    where = f"database {redact_database_url(url)}"
    try:
        version = await inspect_postgres(url)
    except DatabaseUnavailable as exc:
        return False, f"{where}: {exc.reason}"
    except (StorageError, OSError) as exc:
        return False, f"{where}: {exc}"
    if version > LATEST_VERSION:
        return False, f"{where}: {SchemaTooNew(version, LATEST_VERSION)}"
    if version < LATEST_VERSION:
        return (
            True,
            f"{where}: schema version {version}; the next start migrates it to version {LATEST_VERSION}",
        )
    return True, f"{where}: schema version {version}, up to date"


# Said on the MiniMax line whatever its outcome: an operator wary of the bill can run --check freely.
FREE_CHECK = "a free status query, no video made"


async def _check_minimax(settings: Settings, session: aiohttp.ClientSession) -> tuple[bool, str]:
    from bot.__main__ import make_client

    where = f"MiniMax API at {settings.minimax_base_url} ({FREE_CHECK})"
    try:
        await make_client(settings, session).check_key()
    except AuthFailed:
        return False, f"{where}: MINIMAX_API_KEY was refused"
    except MiniMaxError as exc:
        return False, f"{where}: {type(exc).__name__}: {exc}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return False, f"{where}: unreachable ({type(exc).__name__})"
    return True, f"{where}: key accepted; {key_families(settings)[0]}"


TOKEN_PLAN_PREFIX = "sk-cp-"  # MiniMax's Token Plan keys; pay-as-you-go keys look different


def key_families(settings: Settings) -> tuple[str, list[str]]:
    """Which model families the key can use, from its kind: the words for the MiniMax line, and a
    ✗ line per family it cannot. Informational (they do not fail --check): a server may simply not
    offer those models. Token Plan keys cover neither H3 (V2, pay-as-you-go only) nor 1080P (their
    small daily video quota is 768P/6 s)."""
    if not settings.minimax_api_key.reveal().startswith(TOKEN_PLAN_PREFIX):
        return "usable: Hailuo 2.3/02/01 (V1) and MiniMax-H3 (V2, needs pay-as-you-go)", []
    return "a Token Plan key (sk-cp-…): Hailuo (V1) at 768P/6 s only", [
        "MiniMax-H3 (V2 API): not covered by a Token Plan key (sk-cp-…); H3 needs a pay-as-you-go key, "
        "so H3 requests would fail at the API (refunded)",
        "1080P videos: a Token Plan key covers only 768P/6 s videos (a small daily quota); 1080P needs "
        "a pay-as-you-go key",
    ]


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


async def _check_shards(
    settings: Settings, session: aiohttp.ClientSession, discord_api: str
) -> tuple[bool, str] | None:
    """``SHARD_COUNT`` against Discord's own recommendation (``GET /gateway/bot``); said only when
    sharding is set, or when Discord recommends it for a bot that has it off. Informational: a count
    off the recommendation works (Discord refuses a session only past 2,500 servers)."""
    headers = {"Authorization": f"Bot {settings.discord_token.reveal()}"}
    recommended: int | None = None
    try:
        async with session.get(
            f"{discord_api}/gateway/bot", headers=headers, timeout=aiohttp.ClientTimeout(total=15)
        ) as resp:
            body = await resp.json(content_type=None) if resp.status == 200 else None
    except (aiohttp.ClientError, TimeoutError, ValueError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("shards"), int):
        recommended = body["shards"]
    advice = f"Discord recommends {recommended}" if recommended is not None else "no recommendation"
    if settings.shard_count is None:
        if recommended is None or recommended <= 1:
            return None
        return True, (
            f"sharding: off (one connection); {advice} shards for this bot: set SHARD_COUNT before it "
            "reaches 2,500 servers (README, Running on more than one machine)"
        )
    own = ", ".join(map(str, settings.own_shards))
    syncs = "; it syncs the commands (shard 0)" if settings.syncs_commands else ""
    fewer = (
        " (fewer than recommended)" if recommended is not None and settings.shard_count < recommended else ""
    )
    return True, (
        f"sharding: this process runs shard(s) {own} of SHARD_COUNT={settings.shard_count}{fewer}; "
        f"{advice}{syncs}"
    )


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
        shards = await _check_shards(settings, session, discord_api)
        if shards is not None:
            results.append(shards)
        callback = await _check_callback(settings, session)
        if callback is not None:
            results.append(callback)
    for ok, line in results:
        print(f"{'✓' if ok else '✗'} {line}")
    for line in key_families(settings)[1]:
        print(f"✗ {line}")  # informational: the exit status is the checks' above
    return 0 if all(ok for ok, _ in results) else 1
