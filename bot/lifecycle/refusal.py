"""The one exception for a request that is not sent; its own module so every rule module can raise it."""

from __future__ import annotations

import enum

from bot.i18n import Message


class RefusalReason(enum.StrEnum):
    """Why a request was refused, as a small fixed set: the refusals metric counts by it (never by the
    member-facing text, which names amounts, channels and moderators' reasons)."""

    INVALID = "invalid"  # the request itself: a model rule, an option, a reference, not one's task
    OUTSIDE_GUILD = "outside_guild"  # a DM or a user install
    NOT_SERVED = "not_served"  # a server outside ALLOWED_GUILD_IDS
    GUILD_PAUSED = "guild_paused"
    CHANNEL = "channel"  # a channel the server's rules leave out
    BLOCKED = "blocked"
    PROMPT_FILTER = "prompt_filter"
    ACCOUNT_PAUSED = "account_paused"  # the API account needs the operator
    QUOTA = "quota"  # the member's credits (and, when none was named, their pools')
    POOL = "pool"  # a named team pool the member may not use, or with too little left
    GUILD_CAP = "guild_cap"  # the server's budget
    SPEND_LIMIT = "spend_limit"  # the bot-wide ceiling (SPEND_LIMIT_USD)
    IN_FLIGHT = "in_flight"  # MAX_QUEUED_PER_MEMBER


class RequestRefused(Exception):
    """A request that is not sent: ``message`` says what was wrong and how to fix it, for the member
    (in English); ``reason`` is which kind of refusal it is, for the metrics.

    Made with :meth:`keyed`, it also carries its catalog key and values, so the cog can say it in
    the member's language with :meth:`text`; ``message`` stays the English text."""

    def __init__(
        self,
        message: str,
        *,
        reason: RefusalReason = RefusalReason.INVALID,
        words: Message | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.words = words

    @classmethod
    def keyed(
        cls, key: str, *, reason: RefusalReason = RefusalReason.INVALID, **values: object
    ) -> RequestRefused:
        """The refusal ``key`` of :mod:`bot.i18n`'s catalogs, with ``values`` for its placeholders."""
        return cls.of(Message(key, values), reason=reason)

    @classmethod
    def of(cls, words: Message, *, reason: RefusalReason = RefusalReason.INVALID) -> RequestRefused:
        return cls(words.render("en"), reason=reason, words=words)

    def text(self, locale: str | None) -> str:
        """The refusal in ``locale``'s language (English for one not yet in the catalogs)."""
        return self.message if self.words is None else self.words.render(locale)
