"""What is waiting to go to the county (for the status bar). Kept apart from
:mod:`desktop.services.sync` so the main window can show it without loading the sync
worker."""

from __future__ import annotations

from desktop.store import Store, journal


def pending_count(store: Store) -> int:
    """Operations in the outbox not yet accepted by the county."""
    return journal.pending_count(store)
