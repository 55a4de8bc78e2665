"""One detector for the whole privacy test session (the spaCy model loads once)."""

from __future__ import annotations

import pytest

from haia.privacy.detector import Detector, default_detector


@pytest.fixture(scope="session")
def detector() -> Detector:
    d = default_detector()
    d.detect("warm up")
    return d
