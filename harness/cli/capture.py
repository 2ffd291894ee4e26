"""``epson-hil capture`` and ``epson-hil locators check``: write a locator profile for a firmware the harness
does not know yet — capture the device's Web Config, then check a profile against the capture."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.device.errors import DeviceError, InfraError
from harness.lab.yamlfile import InventoryError


def register(sub: Any) -> None:
    capture = sub.add_parser("capture", help="save every Web Config page of a device (HTML, screenshot, form "
                                             "fields), secrets redacted, to write a locator profile")
    capture.add_argument("--webconfig", required=True, metavar="URL", help="the device's Web Config, e.g. "
                                                                           "https://192.0.2.10")
    secret = capture.add_mutually_exclusive_group(required=True)
    secret.add_argument("--password", metavar="P", help="the administrator password")
    secret.add_argument("--password-env", metavar="NAME",
                        help="read the administrator password from environment variable NAME")
    capture.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory to write the capture to")
    capture.add_argument("--profile", metavar="NAME|FILE",
                         help="locator profile for the login and top pages (default: epson-advanced)")
    capture.add_argument("--extra-path", action="append", default=[], metavar="PATH",
                         help="also capture PATH (pages only buttons lead to, e.g. the Sign In screen); repeatable")
    capture.add_argument("--max-pages", type=int, default=100, metavar="N", help="stop after N pages (default: 100)")
    capture.add_argument("--no-verify", action="store_true",
                         help="accept the device's self-signed HTTPS certificate (devices ship with one)")
    capture.set_defaults(func=run_capture)

    locators = sub.add_parser("locators", help="locator profiles")
    locators_sub = locators.add_subparsers(dest="locators_command", required=True, metavar="COMMAND")
    check = locators_sub.add_parser("check", help="say which locators of a profile match nothing in a capture")
    check.add_argument("--profile", required=True, metavar="FILE", help="locator profile (YAML file, or a name)")
    check.add_argument("--capture", required=True, type=Path, metavar="DIR", help="a directory 'capture' wrote")
    check.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    check.set_defaults(func=run_check)


def run_capture(args: argparse.Namespace) -> int:
    from playwright.sync_api import sync_playwright

    from harness.browser import launch_browser
    from harness.device.webconfig.capture import capture_webconfig
    from harness.device.webconfig.profile import default_profile, load_profile

    password = args.password if args.password is not None else os.environ.get(args.password_env)
    if password is None:
        print(f"epson-hil capture: environment variable {args.password_env} is not set", file=sys.stderr)
        return 2
    extra = [p if p.startswith("/") else "/" + p for p in args.extra_path]
    try:
        profile = load_profile(args.profile) if args.profile else default_profile()
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            try:
                index = capture_webconfig(browser, args.webconfig, password, args.out, profile=profile,
                                          extra_paths=tuple(extra), max_pages=args.max_pages,
                                          ignore_https_errors=args.no_verify)
            finally:
                browser.close()
    except (InfraError, DeviceError, InventoryError) as exc:
        print(f"epson-hil capture: {exc}", file=sys.stderr)
        return 1
    print(f"captured {len(index.pages)} pages of {index.base_url} into {args.out} "
          f"(index.json, forms.json, pages/); secrets redacted")
    for skipped in index.skipped:
        print(f"  skipped {skipped['path']}: {skipped['reason']}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from playwright.sync_api import sync_playwright

    from harness.browser import launch_browser
    from harness.device.webconfig.check import check_profile, failures, load_capture
    from harness.device.webconfig.profile import load_profile

    try:
        profile = load_profile(args.profile)
        captured = load_capture(args.capture)
        with sync_playwright() as playwright:
            browser = launch_browser(playwright)
            try:
                results = check_profile(browser, profile, captured)
            finally:
                browser.close()
    except InventoryError as exc:
        print(f"epson-hil locators check: {exc}", file=sys.stderr)
        return 2
    failed = failures(results)
    if args.json:
        print(json.dumps({"profile": profile.name, "capture": str(args.capture), "ok": not failed,
                          "results": [asdict(r) for r in results]}, indent=2))
    else:
        width = max((len(f"{r.page}.{r.locator}") for r in results), default=0)
        for r in results:
            matches = f" ({r.matches} match{'es' if r.matches != 1 else ''})" if r.verdict == "ok" else ""
            print(f"{r.verdict.upper():<28} {f'{r.page}.{r.locator}':<{width}}  {r.how}{matches}")
        print(f"{len(failed)} of {len(results)} locators of {profile.name} match nothing in {args.capture}"
              if failed else f"every required locator of {profile.name} matches {args.capture}")
    return 1 if failed else 0
