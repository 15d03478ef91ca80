"""Sync test fixtures: an in-memory keyring (never keyrings.alt)."""

from __future__ import annotations

import sys
from pathlib import Path

import keyring
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import sync_memkeyring  # noqa: E402


@pytest.fixture
def mem_keyring():
    old = keyring.get_keyring()
    kr = sync_memkeyring.install()
    yield kr
    keyring.set_keyring(old)
