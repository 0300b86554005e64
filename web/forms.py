"""Reading submitted forms: a field's text, whatever the client sent in its place."""

from __future__ import annotations

from typing import Any


def form_list(form: Any, name: str) -> list[str]:
    """The field's non-empty text values (a multiple select, repeated checkboxes)."""
    return [v for v in form.getlist(name) if isinstance(v, str) and v]


def form_text(form: Any, name: str) -> str:
    """The field's text without surrounding spaces; "" when absent or not text (a file)."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
