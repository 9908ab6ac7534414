"""Hailuo video bot: Discord slash commands in, MiniMax videos out."""
