"""Slash-command cogs: thin adapters between Discord interactions and the services in ``bot``."""
