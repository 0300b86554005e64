"""The city packs: one folder per city (YAML, Markdown, boundaries), shipped inside the package."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
