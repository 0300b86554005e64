"""The web side: the staff console (`console/`), the public pages and open data (`public/`),
Open311 GeoReport v2 (`open311/`) and signed media links; FastAPI routers, pages rendered with
Jinja2 through the bot's catalogs."""

from pathlib import Path

STATIC = Path(__file__).parent / "static"
