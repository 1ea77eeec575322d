from __future__ import annotations

import pytest

from capstan.update import minisign


@pytest.fixture(scope="session")
def key() -> minisign.SecretKey:
    return minisign.generate()


@pytest.fixture(scope="session")
def other_key() -> minisign.SecretKey:
    return minisign.generate()
