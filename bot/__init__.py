"""The chat side: channel adapters, the engine and the conversations."""
