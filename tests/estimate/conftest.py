"""Fixtures for the estimator tests: a data folder holding the full-parameter test policy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TEST_POLICY = HERE / "policies" / "test-full.toml"


@pytest.fixture
def policy_dir(data_dir: Path) -> Path:
    """``<data_dir>/policies`` with the test policy ``test-full`` installed."""
    d = data_dir / "policies"
    d.mkdir(exist_ok=True)
    shutil.copy(TEST_POLICY, d / TEST_POLICY.name)
    return d


@pytest.fixture
def full_policy(policy_dir: Path):
    from desktop.services import policies

    return policies.get("test-full", policy_dir.parent)
