"""Shared fixtures: a fixed clock in Bangkok time and fresh repositories."""

from __future__ import annotations

import os

# pythainlp writes a data folder at import unless told not to; tests must not write outside tmp.
os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
