"""Check a locator profile against a capture (``epson-hil capture``): which locators match nothing.

Each captured page's HTML is loaded into Chromium with scripts off and every locator of the profile's page
with the same path is counted (hidden elements too: a capture shows one state of a page). A required
locator that matches nothing, or a required page the capture lacks, is a failure; an ``optional`` one
(shown only in some states) is reported as unverified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from playwright.sync_api import Browser

from harness.device.webconfig.capture import INDEX
from harness.device.webconfig.profile import LocatorProfile
from harness.lab.yamlfile import InventoryError

__all__ = ["LocatorCheck", "check_profile", "failures", "load_capture"]

Verdict = Literal["ok", "missing", "unverified", "page not captured", "optional page not captured"]


@dataclass(frozen=True)
class LocatorCheck:
    page: str
    locator: str
    how: str
    verdict: Verdict
    matches: int = 0

    @property
    def failed(self) -> bool:
        return self.verdict in ("missing", "page not captured")


def check_profile(browser: Browser, profile: LocatorProfile, captured: dict[str, list[Path]]) -> list[LocatorCheck]:
    """One result per locator (or per page the capture lacks), in the profile's order.

    ``captured``: the capture's HTML files by page path (:func:`load_capture`).
    """
    context = browser.new_context(java_script_enabled=False)
    context.route("**/*", lambda route: route.abort())  # a capture's links and styles stay unloaded
    results: list[LocatorCheck] = []
    try:
        page = context.new_page()
        for key, spec in profile.pages.items():
            files = captured.get(spec.bare_path, [])
            if not files:
                verdict: Verdict = "optional page not captured" if spec.optional else "page not captured"
                results.append(LocatorCheck(key, "*", spec.bare_path, verdict))
                continue
            counts = dict.fromkeys(spec.locators, 0)
            for file in files:
                page.set_content(file.read_text(encoding="utf-8"), wait_until="domcontentloaded")
                for name, locator in spec.locators.items():
                    counts[name] = max(counts[name], locator.resolve(page, include_hidden=True).count())
            for name, locator in spec.locators.items():
                found = counts[name]
                verdict = "ok" if found else ("unverified" if locator.optional else "missing")
                results.append(LocatorCheck(key, name, locator.describe(), verdict, found))
    finally:
        context.close()
    return results


def failures(results: list[LocatorCheck]) -> list[LocatorCheck]:
    return [r for r in results if r.failed]


def load_capture(capture_dir: Path) -> dict[str, list[Path]]:
    """The HTML files of a capture by page path (query left off); InventoryError if it is not one."""
    index_path = capture_dir / INDEX
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InventoryError(f"{index_path}: no such file (not a directory 'epson-hil capture' wrote)") from None
    except ValueError as exc:
        raise InventoryError(f"{index_path}: not valid JSON: {exc}") from None
    pages: dict[str, list[Path]] = {}
    for entry in index.get("pages", []):
        path = str(entry.get("path", "")).split("?", 1)[0]
        pages.setdefault(path, []).append(capture_dir / str(entry["html"]))
    return pages
