"""Running the ``epson-hil`` console script as a subprocess, as a lab engineer would."""

from __future__ import annotations

import sys
from pathlib import Path

EPSON_HIL = Path(sys.executable).with_name("epson-hil")


def epson_hil(*args: str) -> list[str]:
    """The command line for ``epson-hil ARGS`` (the installed script, else ``python -m harness.cli``)."""
    return [str(EPSON_HIL), *args] if EPSON_HIL.exists() else [sys.executable, "-m", "harness.cli", *args]
