"""Imports every table module so `SQLModel.metadata` is complete (migrations, tests)."""

from sqlmodel import SQLModel

import emas.storage.models_agencies  # noqa: F401
import emas.storage.models_broadcasts  # noqa: F401
import emas.storage.models_faq  # noqa: F401
import emas.storage.models_outbound  # noqa: F401
from emas.storage import models  # noqa: F401

metadata = SQLModel.metadata
