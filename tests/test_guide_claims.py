"""The guide's claims catalogue: valid, every listed test exists, every suite test covers a claim."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.lab.yamlfile import InventoryError
from harness.reporting.claims import CLAIMS_FILE, claims_by_test, load_claims

SUITES = CLAIMS_FILE.parent
ROOT = SUITES.parent


def suite_tests() -> set[str]:
    """Every test function of the suites, as ``suites/test_x.py::test_name``."""
    found = set()
    for path in sorted(SUITES.glob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.add(f"{path.relative_to(ROOT).as_posix()}::{node.name}")
    return found


def test_every_listed_test_exists() -> None:
    missing = sorted(set(claims_by_test(load_claims())) - suite_tests())
    assert not missing, f"{CLAIMS_FILE} names tests that do not exist: {missing}"


def test_every_suite_test_covers_a_claim() -> None:
    uncovered = sorted(suite_tests() - set(claims_by_test(load_claims())))
    assert not uncovered, f"suite tests that cover no claim of {CLAIMS_FILE.name}: {uncovered}"


def test_every_error_code_and_section_has_a_claim() -> None:
    claims = load_claims()
    assert {"s7-error-360", "s7-error-361", "s7-error-370"} <= {c.id for c in claims}
    assert {"§1", "§2", "§3", "§4", "§5", "§6", "§7"} <= {c.section for c in claims}
    assert all(c.tests and c.text for c in claims)


@pytest.mark.parametrize(("text", "error"), [
    ("claims:\n  - id: a\n    section: '§2'\n    text: x\n    tests: [suites/t.py::test_a]\n"
     "  - id: a\n    section: '§2'\n    text: y\n", r"'a' is used twice"),
    ("claims:\n  - id: a\n    section: '§2'\n    txt: x\n", r"claims\[0\]\.txt: Extra inputs"),
    ("claims:\n  - id: a\n    section: '§2'\n    text: x\n    tests: [test_a]\n", r"claims\[0\] \(a\)\.tests"),
])
def test_a_bad_catalogue_names_the_file_and_the_key(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "guide-claims.yaml"
    path.write_text(text)
    with pytest.raises(InventoryError, match=rf"guide-claims.yaml: .*{error}"):
        load_claims(path)
