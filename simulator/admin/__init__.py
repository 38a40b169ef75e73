"""The /_sim control API (health, tokens, clock, sessions, data) and its access guard."""
