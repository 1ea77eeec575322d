"""The image tier: tests marked `image` build the Debian SD image and boot it under
qemu-system-aarch64 (many minutes under TCG). They run only when asked for by marker,
`pytest -m image tests/image`, as tools/test's image tier does; the quick run
deselects them, and pytest counts them as deselected."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "image" in (config.getoption("markexpr") or ""):
        return
    keep = [i for i in items if i.get_closest_marker("image") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
