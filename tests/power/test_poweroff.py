"""The Pi's power-off runs `systemctl poweroff` and says so when it cannot."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from capstan.power import poweroff


def fake_systemctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int) -> Path:
    calls = tmp_path / "calls"
    script = tmp_path / "bin" / "systemctl"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit {exit_code}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    return calls


def test_poweroff_asks_systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_systemctl(tmp_path, monkeypatch, 0)
    asyncio.run(poweroff.systemctl_poweroff())
    assert calls.read_text().split() == ["--no-ask-password", "poweroff"]


def test_a_refused_poweroff_is_logged_with_what_to_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    fake_systemctl(tmp_path, monkeypatch, 1)
    with caplog.at_level(logging.ERROR):
        asyncio.run(poweroff.systemctl_poweroff())
    assert "polkit" in caplog.text and "exit 1" in caplog.text


def test_no_systemctl_is_logged(monkeypatch: pytest.MonkeyPatch,
                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(poweroff, "POWEROFF", ("/nonexistent/systemctl", "poweroff"))
    with caplog.at_level(logging.ERROR):
        asyncio.run(poweroff.systemctl_poweroff())
    assert "cannot run /nonexistent/systemctl" in caplog.text
