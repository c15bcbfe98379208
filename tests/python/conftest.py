"""Shared test setup: import the monitoring package from the checkout, and
decide whether a test whose tool is missing skips or fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def require_tool(name: str, available: bool, hint: str) -> None:
    """Skip (printing why) when a tool is missing; fail instead when
    CLAIMRISK_REQUIRE_TOOLS=1, as in CI, where a skip would hide a gap."""
    if available:
        return
    reason = f"{name} is not available: {hint}"
    if os.environ.get("CLAIMRISK_REQUIRE_TOOLS") == "1":
        pytest.fail(f"{reason} (CLAIMRISK_REQUIRE_TOOLS=1)")
    print(f"SKIP: {reason}", file=sys.__stderr__)
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    """Evidently's imports warn about their own dependencies; that is not ours to fix."""
    for module in ("evidently", "litestar", "pandas", "numpy", "sklearn"):
        config.addinivalue_line("filterwarnings", f"ignore::DeprecationWarning:{module}.*")
    config.addinivalue_line("filterwarnings", "ignore:The 'mode.chained_assignment' option is deprecated")
