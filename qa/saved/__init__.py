"""Saved questions that say when their answer changes (issue #24): store, checks, Atom feed."""

from qa.saved.check import Outcome, baseline, check_all, check_one
from qa.saved.store import (
    MAX_SAVED,
    SAVED_FILE,
    Change,
    Kept,
    Saved,
    SavedError,
    SavedLimit,
    SavedNotFound,
    SavedStore,
    SavedUnavailable,
)

__all__ = [
    "MAX_SAVED",
    "SAVED_FILE",
    "Change",
    "Kept",
    "Outcome",
    "Saved",
    "SavedError",
    "SavedLimit",
    "SavedNotFound",
    "SavedStore",
    "SavedUnavailable",
    "baseline",
    "check_all",
    "check_one",
]
