"""Imports every table module so `SQLModel.metadata` is complete (migrations, tests)."""

from sqlmodel import SQLModel

from emas.storage import models  # noqa: F401

metadata = SQLModel.metadata
