"""The suites see devices only through harness.device, harness.lab and harness.msft, so they run on real printers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SUITES = Path(__file__).resolve().parent.parent / "suites"
ALLOWED = ("harness.device", "harness.lab", "harness.msft", "harness.plugin")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(SUITES.glob("*.py")), ids=lambda p: p.name)
def test_suite_module_imports_nothing_of_the_simulator(path: Path) -> None:
    harness = [m for m in imported_modules(path) if m == "harness" or m.startswith("harness.")]
    wrong = [m for m in harness if not m.startswith(ALLOWED)]
    assert not wrong, f"{path.name} imports {wrong}: suites may use only {', '.join(ALLOWED)}"


def test_suites_exist_for_every_section_of_the_guide() -> None:
    modules = {p.stem for p in SUITES.glob("test_*.py")}
    assert {"test_s2_prerequisites", "test_s3_setup", "test_s4_status", "test_s5_fax_server", "test_s6_serverless",
            "test_s7_certificates", "test_s7_conditional_access", "test_s7_error_codes", "test_s7_expiry",
            "test_sending"} <= modules
