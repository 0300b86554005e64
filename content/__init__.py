"""The city packs: one folder per city (YAML, Markdown, boundaries), shipped inside the package."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def pack_dir(city: str) -> Path:
    """The folder of one city's pack (`binjai` → content/binjai)."""
    return ROOT / city
