"""The web side: the staff console, signed media links (and, to come, the public pages and
Open311), FastAPI routers rendered with Jinja2 through the bot's catalogs."""

from pathlib import Path

STATIC = Path(__file__).parent / "static"
