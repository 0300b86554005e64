"""Persistence: SQLModel tables, async sessions, repositories, migrations, the city pack."""
