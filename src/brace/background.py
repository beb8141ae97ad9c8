"""Compatibility path: `brace.background` is `brace.core.background` (see docs/architecture.md)."""

from .core.background import (
    BackgroundTasks as BackgroundTasks,
)
from .core.background import (
    PeriodicTasks as PeriodicTasks,
)
from .core.background import (
    background_tasks as background_tasks,
)

__all__ = ["BackgroundTasks", "PeriodicTasks", "background_tasks"]
