"""The one exception for a request that is not sent; its own module so every rule module can raise it."""

from __future__ import annotations


class RequestRefused(Exception):
    """A request that is not sent: ``message`` says what was wrong and how to fix it, for the member."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
