"""The MiniMax Hailuo video API: client, response parsing, pacing, errors, model table."""
