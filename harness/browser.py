"""Launching Chromium for Web Config and sign-in pages: bundled if installed, else Debian's, lab-aware.

When the lab uses the built-in Microsoft tier, Microsoft's host names resolve to it through
``--host-resolver-rules`` and exactly the tier's certificate is trusted through its SPKI pin; every other
certificate error still fails, as it should.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from playwright.sync_api import Browser, Playwright

#: Host names a lab maps to the built-in tier's HTTPS port.
MICROSOFT_WEB_HOSTS: tuple[str, ...] = ("login.microsoftonline.com", "microsoft.com", "www.microsoft.com")

#: Flags that keep Chromium quiet on a closed network (FIDELITY.md, "Library pitfalls").
QUIET_FLAGS: tuple[str, ...] = (
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
)
#: Playwright's own ``--disable-features`` list (``chromiumSwitches.ts``). Chromium honours only the last
#: ``--disable-features`` on its command line, so the lab's, which comes after Playwright's, must repeat these.
#: ``tests/test_browser.py`` launches both ways and fails when a Playwright release changes its list.
PLAYWRIGHT_DISABLED_FEATURES: tuple[str, ...] = (
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding", "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect", "TcpPortRandomizationWin", "OptimizationHints",
    "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch", "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
#: Features the lab turns off as well. RenderDocument gives every cross-document navigation a new frame host in the
#: browser and a new frame in the renderer: ~22% of a Web Config page load's CPU (``bench/bench_navigation.py``).
#: It changes nothing a page can see (Playwright itself ran with it off from October 2025 to June 2026).
LAB_DISABLED_FEATURES: tuple[str, ...] = ("RenderDocument",)
SYSTEM_CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: Debian's chromium-headless-shell: Chromium's engine without the browser's UI, what Playwright itself runs for
#: headless Chromium. A page load costs it about 40% less CPU than the full browser in headless mode.
SYSTEM_HEADLESS_SHELL = ("/usr/bin/chromium-headless-shell",)


class BrowserUnavailable(RuntimeError):
    """No Chromium could be found or started; says how to install one."""


def chromium_executable(playwright: Playwright, *, headless: bool = True) -> str | None:
    """Path to the Chromium to use: None for Playwright's bundled build when installed, else Debian's.

    Headless, Debian's headless shell is preferred to the full browser when both are installed.
    """
    override = os.environ.get("EPSON_HIL_CHROMIUM")
    if override:
        return override
    try:
        bundled = playwright.chromium.executable_path
    except Exception:  # Playwright raises when its browser registry is empty
        bundled = ""
    if bundled and Path(bundled).exists():
        return None
    for candidate in (SYSTEM_HEADLESS_SHELL if headless else ()) + SYSTEM_CHROMIUM:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("chromium")
    if found:
        return found
    raise BrowserUnavailable("no Chromium found: install Debian's package ('apt-get install chromium') "
                             "or set EPSON_HIL_CHROMIUM to a Chromium binary")


def resolver_rules(resolve: Mapping[str, int], host: str = "127.0.0.1") -> str:
    """``--host-resolver-rules`` text mapping each host name to ``host:port``."""
    return ", ".join(f"MAP {name} {host}:{port}" for name, port in resolve.items())


def chromium_args(resolve: Mapping[str, int] | None = None, spki: Sequence[str] = ()) -> list[str]:
    """The command-line flags for one lab browser."""
    args = [*QUIET_FLAGS, f"--disable-features={','.join(PLAYWRIGHT_DISABLED_FEATURES + LAB_DISABLED_FEATURES)}"]
    if resolve:
        args.append(f"--host-resolver-rules={resolver_rules(resolve)}")
    if spki:
        args.append(f"--ignore-certificate-errors-spki-list={','.join(spki)}")
    return args


def launch_browser(playwright: Playwright, *, resolve: Mapping[str, int] | None = None,
                   spki: Sequence[str] = (), headless: bool = True) -> Browser:
    """Launch Chromium for the lab; ``resolve`` maps host names to loopback ports, ``spki`` pins certificates."""
    return playwright.chromium.launch(
        executable_path=chromium_executable(playwright, headless=headless), headless=headless,
        args=chromium_args(resolve, spki),
    )


def tier_resolution(identity_port: int) -> dict[str, int]:
    """Microsoft's web host names mapped to the built-in tier's HTTPS port."""
    return dict.fromkeys(MICROSOFT_WEB_HOSTS, identity_port)
