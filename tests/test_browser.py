"""Which Chromium the lab launches: an override, Playwright's bundled build, else Debian's (headless shell first)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness import browser
from harness.browser import BrowserUnavailable, chromium_executable


def no_bundled_browser() -> Any:
    """A stand-in for Playwright whose browser registry is empty (no bundled Chromium)."""
    return SimpleNamespace(chromium=SimpleNamespace(executable_path="/nonexistent/playwright/chrome"))


@pytest.fixture
def debian(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Debian's two Chromium binaries, as files under ``tmp_path`` that the lookup sees in place of /usr/bin."""
    paths = {"full": tmp_path / "chromium", "shell": tmp_path / "chromium-headless-shell"}
    monkeypatch.setattr(browser, "SYSTEM_CHROMIUM", (str(paths["full"]),))
    monkeypatch.setattr(browser, "SYSTEM_HEADLESS_SHELL", (str(paths["shell"]),))
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.delenv("EPSON_HIL_CHROMIUM", raising=False)
    return paths


def test_headless_prefers_debians_headless_shell(debian: dict[str, Path]) -> None:
    debian["full"].touch()
    debian["shell"].touch()
    assert chromium_executable(no_bundled_browser()) == str(debian["shell"])


def test_headed_uses_the_full_browser(debian: dict[str, Path]) -> None:
    debian["full"].touch()
    debian["shell"].touch()
    assert chromium_executable(no_bundled_browser(), headless=False) == str(debian["full"])


def test_without_the_shell_the_full_browser_runs_headless(debian: dict[str, Path]) -> None:
    debian["full"].touch()
    assert chromium_executable(no_bundled_browser()) == str(debian["full"])


def test_override_wins(debian: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    debian["shell"].touch()
    monkeypatch.setenv("EPSON_HIL_CHROMIUM", "/opt/chromium/chrome")
    assert chromium_executable(no_bundled_browser()) == "/opt/chromium/chrome"


def test_no_chromium_says_how_to_install_one(debian: dict[str, Path]) -> None:
    with pytest.raises(BrowserUnavailable, match="apt-get install chromium"):
        chromium_executable(no_bundled_browser())
