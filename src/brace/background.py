"""Compatibility path: `brace.background` is `brace.core.background`."""

from .core.background import BackgroundTasks, PeriodicTasks, background_tasks

__all__ = ["BackgroundTasks", "PeriodicTasks", "background_tasks"]
