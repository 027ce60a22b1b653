"""The clock every part of the product is given: only the composition root reads the real one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Clock = Callable[[], datetime]
"""Returns the current aware datetime (Asia/Bangkok by default); injected, never read here."""
