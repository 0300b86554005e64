"""Reading submitted forms: a field's text, whatever the client sent in its place."""

from __future__ import annotations

from typing import Any


def form_text(form: Any, name: str) -> str:
    """The field's text without surrounding spaces; "" when absent or not text (a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
