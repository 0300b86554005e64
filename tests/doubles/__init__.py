"""Stand-ins for the outside services the bot talks to, for tests."""
