"""The scenario API: the real bot process, a fake Discord around it, and a member's hands.

Why a subprocess: only a separate, unmodified process shows that ``python -m bot`` really starts,
survives SIGKILL and picks up its work after a restart. The harness owns that process and the fake,
and every wait is a deadline on the fake's state (never a fixed sleep), so a slow CI machine makes
a test slower, not flaky.

    async with BotHarness(tmp_path) as h:
        call = await h.invoke("video generate", member=h.member, options={"prompt": "a cat"})
        await call.wait_response()
        done = await h.wait_for_message(lambda m: m.attachments, timeout=15)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

from tests.e2e.interactions import (
    AttachmentSpec,
    CommandNotAvailable,
    build_component_data,
    build_context_menu_data,
    build_modal_submit_data,
    build_slash_data,
    default_permissions_allow,
)
from tests.fakes.fake_discord import (
    FakeChannel,
    FakeDiscord,
    FakeMember,
    FakeMessage,
    FakeUser,
    InteractionRecord,
    InteractionType,
    StoredAttachment,
)

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = Path(__file__).resolve().with_name("launch_bot.py")
MINI_BOT = Path(__file__).resolve().with_name("mini_bot.py")  # a tiny discord.py bot that proves the fake

# Copied from the test runner's environment; everything else the bot sees is set here on purpose,
# so a developer's own DISCORD_TOKEN or .env can never leak into a test run.
_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "TZ")

FAST_TIMING = {
    "POLL_FIRST_DELAY_SECONDS": "0.2",
    "POLL_MIN_INTERVAL_SECONDS": "0.2",
    "POLL_MAX_INTERVAL_SECONDS": "1",
    "STATUS_EDIT_INTERVAL_SECONDS": "0.2",
    "MINIMAX_RPM": "600",
    "MINIMAX_QUERY_RPM": "6000",
}

# Lines that mean something went wrong inside the bot, whatever the test was checking.
LOG_PROBLEM_MARKERS = (
    "Traceback (most recent call last)",
    "Task exception was never retrieved",
    "Unclosed client session",
    "Unclosed connector",
    "Ignoring exception",
)
# discord.utils.setup_logging's level column, with or without brackets (it colours output in Docker
# even when writing to a file, so ANSI codes are stripped before matching).
_LOG_LEVEL_PROBLEM = re.compile(r"^\[?\d{4}-\d\d-\d\d[ T][\d:.,]+\]? \[?(ERROR|CRITICAL)\b")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BotDied(AssertionError):
    """The bot process ended while a test still needed it."""


class BotHarness:
    """Starts fake Discord (and the bot against it) and acts as members would.

    ``script`` runs a file instead of ``python -m bot`` (used to prove the fake with a tiny bot);
    ``expect_commands`` are the top-level command names that must be registered before the bot
    counts as ready; ``env`` adds or overrides settings.
    """

    def __init__(
        self,
        tmp_path: Path,
        *,
        script: Path | None = None,
        module: str = "bot",
        env: Mapping[str, str] | None = None,
        minimax: Any = None,
        minimax_base_url: str | None = None,
        expect_commands: Sequence[str] = ("video",),
        fake: FakeDiscord | None = None,
        start_timeout: float = 20.0,
        bot_args: Sequence[str] = (),
        launcher_args: Sequence[str] = (),
    ) -> None:
        self.tmp_path = tmp_path
        self.workdir = tmp_path / "bot-cwd"  # no .env here, so only our settings count
        self.log_path = tmp_path / "bot.log"
        self.database_path = tmp_path / "bot.sqlite3"
        self.script = script
        self.module = module
        self.extra_env = dict(env or {})
        # A FakeMiniMax (anything with ``base_url`` and ``api_key``), or just a URL; without either the
        # bot gets a port where nothing listens, which is enough for tests that never generate.
        self.minimax_base_url = (
            minimax.base_url if minimax is not None else (minimax_base_url or "http://127.0.0.1:9")
        )
        self.minimax_api_key = minimax.api_key if minimax is not None else "fake-minimax-key.do-not-log"
        self.expect_commands = tuple(expect_commands)
        self._owns_fake = fake is None
        self.fake = fake or FakeDiscord()
        self.start_timeout = start_timeout
        self.bot_args = tuple(bot_args)
        self.launcher_args = tuple(launcher_args)  # launch_bot.py's own options (``--api-minute``)
        self.process: asyncio.subprocess.Process | None = None
        self.launches = 0
        self._expect_exit = False
        self._watcher: asyncio.Task[None] | None = None
        self._log_handle: IO[bytes] | None = None
        self._shard_identifies_before = 0

    # ---- members and places -------------------------------------------------------------

    @property
    def admin(self) -> FakeMember:
        """Has Manage Server (through the Manager role)."""
        return self.fake.admin

    @property
    def member(self) -> FakeMember:
        """A plain member."""
        return self.fake.member

    @property
    def moderator(self) -> FakeMember:
        """Has the "Video Moderator" role, but not Manage Server."""
        return self.fake.moderator

    @property
    def channel(self) -> FakeChannel:
        return self.fake.general

    # ---- process ------------------------------------------------------------------------

    async def __aenter__(self) -> BotHarness:
        if self._owns_fake:
            await self.fake.start()
        try:
            await self.start()
        except BaseException:
            await self._shutdown()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._shutdown()

    async def _shutdown(self) -> None:
        try:
            await self.stop()
        finally:
            if self._owns_fake:
                await self.fake.stop()

    def environment(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in _PASSTHROUGH if k in os.environ}
        env.update(
            {
                "PYTHONPATH": str(REPO_ROOT),
                "PYTHONUNBUFFERED": "1",
                "PYTHONDONTWRITEBYTECODE": "1",
                "DISCORD_TOKEN": self.fake.token,
                "MINIMAX_API_KEY": self.minimax_api_key,
                "MINIMAX_BASE_URL": self.minimax_base_url,
                "DATABASE_PATH": str(self.database_path),
                "DISCORD_GUILD_IDS": ",".join(str(gid) for gid in self.fake.guilds),
                "DOWNLOAD_DIR": str(self.tmp_path / "downloads"),
                "LOG_LEVEL": "DEBUG",
                **FAST_TIMING,
            }
        )
        env.update(self.extra_env)
        return env

    def command_line(self) -> list[str]:
        target = ["--script", str(self.script)] if self.script is not None else ["--module", self.module]
        extra = ["--", *self.bot_args] if self.bot_args else []
        launcher = [str(LAUNCHER), self.fake.api_url, self.fake.gateway_url, *self.launcher_args]
        return [sys.executable, *launcher, *target, *extra]

    def _open_log(self) -> IO[bytes]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.tmp_path / "downloads").mkdir(exist_ok=True)
        handle = self.log_path.open("ab")
        handle.write(f"===== harness: launch {self.launches} =====\n".encode())
        handle.flush()
        return handle

    @property
    def shards(self) -> tuple[tuple[int, int], ...]:
        """The shards this bot identifies as (``SHARD_COUNT``/``SHARD_IDS`` in ``env``); () unsharded."""
        count = self.extra_env.get("SHARD_COUNT", "").strip()
        if not count:
            return ()
        ids = [int(part) for part in self.extra_env.get("SHARD_IDS", "").split(",") if part.strip()]
        return tuple((shard, int(count)) for shard in (ids or range(int(count))))

    async def start(self, *, wait: bool = True) -> None:
        """Launch the bot; by default wait until it has synced its commands and identified."""
        if self.running:
            raise RuntimeError("the bot is already running")
        self.launches += 1
        self._log_handle = self._open_log()
        identifies_before = self.fake.identify_count
        self._shard_identifies_before = len(self.fake.shard_identifies)
        self._expect_exit = False
        self.process = await asyncio.create_subprocess_exec(
            *self.command_line(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=asyncio.subprocess.STDOUT,
            env=self.environment(),
            cwd=self.workdir,
            start_new_session=True,
        )
        self._watcher = asyncio.create_task(self._watch(self.process))
        if wait:
            await self.wait_ready(identifies_before)

    async def _watch(self, process: asyncio.subprocess.Process) -> None:
        await process.wait()
        self.fake.notify()  # wake every waiter so a dead bot fails a test at once

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def check_alive(self) -> None:
        if self.process is not None and self.process.returncode is not None and not self._expect_exit:
            raise BotDied(f"the bot exited with code {self.process.returncode}; log tail:\n{self.log_tail()}")

    async def wait_ready(self, identifies_before: int | None = None, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Until the bot has registered ``expect_commands`` and IDENTIFYed after this launch."""
        before = self.fake.identify_count - 1 if identifies_before is None else identifies_before
        fake = self.fake

        def ready() -> bool:
            self.check_alive()
            if self.shards:
                return self._shards_ready() and all(
                    name in fake.command_names() for name in self.expect_commands
                )
            session = fake.current_session
            return (
                fake.identify_count > before
                and session is not None
                and session.ready_sent
                and fake.live_connection is not None
                and all(name in fake.command_names() for name in self.expect_commands)
            )

        try:
            await fake.wait_until(
                ready, timeout or self.start_timeout, "the bot to sync commands and connect"
            )
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; log tail:\n{self.log_tail()}") from None

    def _shards_ready(self) -> bool:
        """Every shard of this bot identified since its launch, got its READY and is connected."""
        fresh = self.fake.shard_identifies[self._shard_identifies_before :]
        for shard_id, count in self.shards:
            session = self.fake.shard_session(shard_id)
            if (shard_id, count) not in fresh or session is None or session.shard != (shard_id, count):
                return False
            if not session.ready_sent or session.conn is None or not session.conn.live:
                return False
        return True

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, like a crash or a power cut."""
        if not self.running:
            return
        assert self.process is not None
        self._expect_exit = True
        self.process.kill()
        await self._reap()

    async def stop(self, timeout: float = 10.0) -> int | None:  # noqa: ASYNC109
        """SIGTERM and wait for a clean exit; SIGKILL if it does not come in time."""
        if self.process is None:
            return None
        if self.running:
            self._expect_exit = True
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                self.process.kill()
        await self._reap()
        return self.process.returncode

    async def _reap(self) -> None:
        if self.process is not None:
            await self.process.wait()
        if self._watcher is not None:
            await self._watcher
            self._watcher = None
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    async def restart(self, *, kill: bool = True) -> None:
        """Kill (or stop) the bot and start it again against the same fake and database."""
        if kill:
            await self.kill()
        else:
            await self.stop()
        await self.start()

    # ---- logs ---------------------------------------------------------------------------

    def log_text(self) -> str:
        """Everything every launch printed, without colour codes."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return _ANSI.sub("", text)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_problems(self, allow: Iterable[str] = ()) -> list[str]:
        """Log lines that show an error or an unhandled exception, minus ones matching ``allow``."""
        allowed = tuple(allow)
        return [
            line
            for line in self.log_text().splitlines()
            if (any(marker in line for marker in LOG_PROBLEM_MARKERS) or _LOG_LEVEL_PROBLEM.match(line))
            and not any(a in line for a in allowed)
        ]

    def assert_clean(self, *, allow_log: Iterable[str] = ()) -> None:
        """No Discord rule broken, no unknown route, no mass mention, no error in the bot's log."""
        problems = [f"violation: {v}" for v in self.fake.violations]
        problems += [f"route the fake does not know: {r}" for r in self.fake.unknown_routes]
        problems += [
            f"message {m.id} may ping everyone: {m.content[:80]!r}"
            for m in self.fake.messages_allowing_mass_mentions()
        ]
        problems += [f"log: {line}" for line in self.log_problems(allow_log)]
        secrets = [self.fake.token, self.environment()["MINIMAX_API_KEY"]]
        log = self.log_text()
        problems += [
            f"a secret appears in the bot's log: {s[:4]}…" for s in secrets if len(s) >= 8 and s in log
        ]
        assert not problems, "\n".join(problems)

    # ---- acting as members --------------------------------------------------------------

    def _member(self, who: FakeMember | str | None) -> FakeMember:
        if who is None:
            return self.member
        return self.fake.member_named(who) if isinstance(who, str) else who

    async def _connected(self, place: FakeChannel | None = None) -> None:
        """Until the connection that hears ``place``'s guild (its shard's; DMs: shard 0's) is live."""
        guild = self.fake.guild_of(place) if place is not None else None

        def live() -> bool:
            self.check_alive()
            return self.fake.connection_for(guild.id if guild is not None else None) is not None

        await self.fake.wait_until(live, self.start_timeout, "a live gateway connection")

    async def invoke(
        self,
        command: str,
        *,
        member: FakeMember | str | None = None,
        options: Mapping[str, Any] | None = None,
        attachments: Sequence[AttachmentSpec | StoredAttachment | bytes] | Mapping[str, Any] | None = None,
        channel: FakeChannel | None = None,
        validate: bool = True,
        attachment_size_limit: int | None = None,
        user_install: bool = False,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A member runs ``/command sub …``; the payload follows the schema the bot registered.

        Attachments fill the command's attachment options in order (or by name from a mapping).
        ``validate=False`` sends what Discord's client would have refused (for fuzzing).
        ``user_install``: through the member's own install (Discord offers it only when the command
        declares integration type 1, and in a DM only with context 1).
        """
        path = command.strip().lstrip("/").split()
        who = self._member(member)
        place = channel or self.channel
        guild = self.fake.guild_of(place)
        registered = self.fake.find_command(path[0], guild_id=guild.id if guild else None)
        if registered is None:
            raise LookupError(f"/{path[0]} is not registered (have {sorted(self.fake.command_names())})")
        if validate and not default_permissions_allow(registered, self._permissions(who, place)):
            raise CommandNotAvailable(f"{who.name} cannot see /{path[0]} (default_member_permissions)")
        if validate and user_install and 1 not in (registered.get("integration_types") or [0]):
            raise CommandNotAvailable(f"/{path[0]} is not installable on a member's account")
        if validate and place.is_dm and 1 not in (registered.get("contexts") or [0, 1, 2]):
            raise CommandNotAvailable(f"/{path[0]} is not offered in DMs (contexts)")
        data = build_slash_data(
            self.fake, registered, path, options or {}, attachments, channel=place, validate=validate
        )
        await self._connected(place)
        return await self.fake.create_interaction(
            type=InteractionType.APPLICATION_COMMAND,
            data=data,
            member=None if place.is_dm else who,
            user=who.user,
            channel=place,
            label=f"/{' '.join(path)} by {who.name}",
            attachment_size_limit=attachment_size_limit,
            user_install=user_install,
            locale=locale,
        )

    async def click(
        self,
        message: FakeMessage,
        custom_id: str,
        member: FakeMember | str | None = None,
        *,
        values: Iterable[str] | None = None,
        validate: bool = True,
    ) -> InteractionRecord:
        """A member clicks a button (or picks ``values`` in a select menu) on ``message``."""
        current = self.fake.messages.get(message.id, message)
        if validate and current.deleted:
            raise CommandNotAvailable(f"message {message.id} was deleted")
        who = self._member(member)
        data = build_component_data(current, custom_id, values, validate=validate)
        place = self.fake.channel(current.channel_id) or self.channel
        await self._connected(place)
        return await self.fake.create_interaction(
            type=InteractionType.MESSAGE_COMPONENT,
            data=data,
            member=None if place.is_dm else who,
            user=who.user,
            channel=place,
            message=current,
            label=f"click {custom_id!r} by {who.name}",
        )

    async def submit_modal(
        self,
        interaction: InteractionRecord,
        values: Mapping[str, str | Sequence[str]],
        member: FakeMember | str | None = None,
        *,
        validate: bool = True,
    ) -> InteractionRecord:
        """A member fills in and submits the modal the bot opened in answer to ``interaction``."""
        if interaction.modal is None:
            raise LookupError(f"{interaction.label} was not answered with a modal")
        who = (
            self._member(member)
            if member is not None
            else self._user_as_member(interaction.user, interaction.channel_id)
        )
        data = build_modal_submit_data(interaction.modal, values, validate=validate)
        source = self.fake.messages.get(interaction.source_message_id or 0)
        place = self.fake.channel(interaction.channel_id) or self.channel
        await self._connected(place)
        return await self.fake.create_interaction(
            type=InteractionType.MODAL_SUBMIT,
            data=data,
            member=None if place.is_dm else who,
            user=who.user,
            channel=place,
            message=source,
            label=f"modal {interaction.modal.get('custom_id')!r} by {who.name}",
        )

    def _user_as_member(self, user: FakeUser, channel_id: int | None = None) -> FakeMember:
        guild = self.fake.guild_of(channel_id) if channel_id is not None else None
        member = (guild or self.fake.guild).members.get(user.id)
        return member if member is not None else FakeMember(user)

    def _permissions(self, who: FakeMember, place: FakeChannel) -> int:
        """The member's permissions in the guild of ``place`` (the first guild's for a DM)."""
        guild = self.fake.guild_of(place) or self.fake.guild
        if guild is not self.fake.guild:  # the same person, with their roles in that guild
            who = guild.members.get(who.id, who)
        return guild.permissions_of(who)

    async def context_menu(
        self,
        name: str,
        target: FakeMessage | FakeMember | FakeUser,
        member: FakeMember | str | None = None,
        *,
        validate: bool = True,
    ) -> InteractionRecord:
        """A member picks Apps → ``name`` on a message (or on a user)."""
        ctype = 3 if isinstance(target, FakeMessage) else 2
        place = self.fake.channel(target.channel_id) if isinstance(target, FakeMessage) else None
        place = place or self.channel
        guild = self.fake.guild_of(place)
        registered = self.fake.find_command(name, type=ctype, guild_id=guild.id if guild else None)
        if registered is None:
            raise LookupError(f"no {'message' if ctype == 3 else 'user'} command {name!r} is registered")
        who = self._member(member)
        if validate and not default_permissions_allow(registered, self._permissions(who, place)):
            raise CommandNotAvailable(f"{who.name} cannot see {name!r} (default_member_permissions)")
        data = build_context_menu_data(self.fake, registered, target, place)
        await self._connected(place)
        return await self.fake.create_interaction(
            type=InteractionType.APPLICATION_COMMAND,
            data=data,
            member=None if place.is_dm else who,
            user=who.user,
            channel=place,
            label=f"{name!r} by {who.name}",
        )

    async def post_message(
        self,
        member: FakeMember | str | None = None,
        content: str = "",
        *,
        channel: FakeChannel | None = None,
        attachments: Iterable[AttachmentSpec | bytes] = (),
    ) -> FakeMessage:
        """A member writes a message (say, with a picture to animate through a context menu)."""
        place = channel or self.channel
        stored = [
            (a if isinstance(a, AttachmentSpec) else AttachmentSpec(data=a)).store(
                self.fake, place.id, ephemeral=False
            )
            for a in attachments
        ]
        return await self.fake.post_user_message(
            self._member(member), content, channel=place, attachments=stored
        )

    # ---- waiting ------------------------------------------------------------------------

    async def wait_until(
        self,
        predicate: Callable[[], T],
        timeout: float = 10.0,  # noqa: ASYNC109
        what: str = "a condition",
    ) -> T:
        """``predicate`` re-checked on every change in the fake; fails at once if the bot dies."""

        def check() -> T:
            self.check_alive()
            return predicate()

        try:
            return await self.fake.wait_until(check, timeout, what)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}; log tail:\n{self.log_tail()}") from None

    async def wait_for_message(
        self,
        predicate: Callable[[FakeMessage], object],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        channel: FakeChannel | None = None,
        include_ephemeral: bool = True,
        from_bot: bool = True,
    ) -> FakeMessage:
        """The first (oldest) message, as it is now, that satisfies ``predicate``."""

        def find() -> FakeMessage | None:
            for message in sorted(self.fake.messages.values(), key=lambda m: m.id):
                if message.deleted or (channel is not None and message.channel_id != channel.id):
                    continue
                if (message.ephemeral and not include_ephemeral) or (
                    from_bot and message.author.id != self.fake.app_id
                ):
                    continue
                if predicate(message):
                    return message
            return None

        found = await self.wait_until(find, timeout, "a message matching the predicate")
        assert found is not None
        return found

    async def wait_for_response(
        self,
        interaction: InteractionRecord,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> InteractionRecord:
        """Until the bot answered ``interaction`` (any callback type)."""
        await self.wait_until(lambda: interaction.responded, timeout, f"a response to {interaction.label}")
        return interaction
