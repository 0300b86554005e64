"""The city's report workflow (content/<city>/workflow.yaml): triage, auto-verification, reminders."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

WORKFLOW_FILE = "workflow.yaml"

Stage = Literal["verify", "answer"]
Target = Literal["agency", "agency_head", "kominfo"]


class LadderStep(BaseModel):
    """One rung: when (in working days around the deadline) and whom to remind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Stage
    step: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    day: int = Field(ge=-10, le=60)
    notify: tuple[Target, ...] = Field(min_length=1)

    @property
    def overdue(self) -> bool:
        return self.day >= 0


class Workflow(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    triage_agency: str = "diskominfo"
    auto_verify: frozenset[str] = frozenset()
    send_hour: int = Field(default=8, ge=0, le=23)
    ladder: tuple[LadderStep, ...] = ()
    link_code_hours: int = Field(default=24, gt=0)

    @model_validator(mode="after")
    def _unique_steps(self) -> Workflow:
        seen: set[tuple[str, str]] = set()
        for rung in self.ladder:
            key = (rung.stage, rung.step)
            if key in seen:
                raise ValueError(f"step {rung.step!r} appears twice in stage {rung.stage!r}")
            seen.add(key)
        return self

    def steps(self, stage: str) -> list[LadderStep]:
        return sorted((s for s in self.ladder if s.stage == stage), key=lambda s: s.day)


DEFAULT_LADDER = (
    LadderStep(stage="verify", step="due_soon", day=-1, notify=("kominfo",)),
    LadderStep(stage="verify", step="overdue", day=0, notify=("kominfo",)),
    LadderStep(stage="answer", step="due_soon", day=-1, notify=("agency",)),
    LadderStep(stage="answer", step="overdue", day=0,
               notify=("agency", "agency_head", "kominfo")),
)


class WorkflowError(ValueError):
    pass


@cache
def load_workflow(city_dir: Path) -> Workflow:
    """The workflow of a city pack; the defaults when the pack has no workflow.yaml."""
    path = city_dir / WORKFLOW_FILE
    if not path.is_file():
        return Workflow(ladder=DEFAULT_LADDER)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Workflow.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise WorkflowError(f"{WORKFLOW_FILE}: {exc}") from exc
