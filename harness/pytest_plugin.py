"""The epson-hil pytest plugin: command-line options and the fixtures that wire the lab into tests."""

from __future__ import annotations

from pathlib import Path

import pytest

DEFAULT_INVENTORY = Path("fixtures") / "virtual-lab.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("epson-hil", "Epson OAuth 2.0 e-mail hardware-in-the-loop")
    group.addoption("--inventory", action="store", default=None, metavar="FILE",
                    help=f"lab inventory YAML (default: {DEFAULT_INVENTORY} of the checkout)")


@pytest.fixture(scope="session")
def inventory_path(request: pytest.FixtureRequest) -> Path:
    """The inventory file this session tests against, resolved against the checkout's root."""
    given = request.config.getoption("--inventory")
    path = Path(given) if given else Path(request.config.rootpath) / DEFAULT_INVENTORY
    if not path.is_file():
        raise pytest.UsageError(f"--inventory: no such file: {path}")
    return path.resolve()
