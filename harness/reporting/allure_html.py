"""``epson-hil report --html``: the run's Allure results rendered as an HTML report by the Allure 3 command line.

The ``allure`` command comes from npm (``npm install -g allure``); without it the error says so. Allure 3 takes
its categories from a configuration file, not from ``categories.json``, so the same failure-class categories
are handed to it in a generated ``allurerc.json``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.reporting.allure_files import categories

RESULTS_DIR = "allure-results"
REPORT_DIR = "allure-report"
INSTALL_HINT = "npm install -g allure"
#: Generating a report of a few hundred results takes seconds; this only stops a hung command.
TIMEOUT_S = 600


class AllureHtmlError(RuntimeError):
    """The HTML report could not be rendered; the message says why and what to do."""


class AllureCliMissing(AllureHtmlError):
    """No ``allure`` command on PATH."""


def allure_command() -> str:
    """The path of the ``allure`` command line, or :class:`AllureCliMissing` saying how to get it."""
    found = shutil.which("allure")
    if found is None:
        raise AllureCliMissing("the 'allure' command line (Allure 3, from npm) is not installed: install it with "
                               f"'{INSTALL_HINT}' (Node.js 20 or later), then run 'epson-hil report --html' again")
    return found


def render_html(run_dir: Path) -> Path:
    """Render ``run_dir/allure-results`` into ``run_dir/allure-report``; return the report's ``index.html``."""
    run_dir = Path(run_dir)
    results = run_dir / RESULTS_DIR
    if not results.is_dir() or not any(results.glob("*-result.json")):
        raise AllureHtmlError(f"{results}: no Allure results to render (was the run made with --alluredir?)")
    command = allure_command()
    output = run_dir / REPORT_DIR
    with tempfile.TemporaryDirectory(prefix="allurerc-") as tmp:
        config = Path(tmp) / "allurerc.json"
        config.write_text(json.dumps({"name": f"epson-hil run {run_dir.name}", "categories": categories()}),
                          encoding="utf-8")
        argv = [command, "generate", str(results.resolve()), "--output", str(output.resolve()),
                "--config", str(config)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise AllureHtmlError(f"'allure generate' did not finish within {TIMEOUT_S} s") from None
    index = output / "index.html"
    if done.returncode != 0 or not index.is_file():
        said = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise AllureHtmlError(f"'allure generate' failed (exit {done.returncode}): " + " | ".join(said))
    return index
