"""Which Chromium the lab launches: an override, Playwright's bundled build, else Debian's (headless shell first)."""

from __future__ import annotations

import os
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


def _browser_command_line(marker: str) -> list[str]:
    """The command line of the Chromium browser process whose environment carries ``EPSON_HIL_PROBE=marker``."""
    for proc in Path("/proc").iterdir():
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            argv = [a.decode() for a in (proc / "cmdline").read_bytes().split(b"\0") if a]
        except OSError:
            continue
        if f"EPSON_HIL_PROBE={marker}".encode() in environ and "--remote-debugging-pipe" in argv \
                and not any(a.startswith("--type=") for a in argv):
            return argv
    raise AssertionError(f"no Chromium browser process with EPSON_HIL_PROBE={marker}")


def _disabled_features(argv: list[str]) -> set[str]:
    """What Chromium disables: the last ``--disable-features`` wins, earlier ones are dropped whole."""
    values = [a.split("=", 1)[1] for a in argv if a.startswith("--disable-features=")]
    return set(values[-1].split(",")) if values else set()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the browser's command line from /proc")
def test_the_lab_keeps_playwrights_disabled_features_and_adds_its_own() -> None:
    """A later ``--disable-features`` replaces Playwright's: the lab's must carry Playwright's list whole."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = chromium_executable(playwright)
        found = {}
        for marker, args in (("plain", []), ("lab", browser.chromium_args())):
            launched = playwright.chromium.launch(executable_path=executable, args=args,
                                                  env={**os.environ, "EPSON_HIL_PROBE": marker})
            try:
                found[marker] = _disabled_features(_browser_command_line(marker))
            finally:
                launched.close()
    assert found["plain"], "Playwright passes no --disable-features any more"
    missing = found["plain"] - found["lab"]
    assert not missing, (f"this Playwright disables {sorted(missing)} too: add them to "
                         "harness.browser.PLAYWRIGHT_DISABLED_FEATURES, or the lab's flag drops them")
    assert set(browser.LAB_DISABLED_FEATURES) <= found["lab"]
