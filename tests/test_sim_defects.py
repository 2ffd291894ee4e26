"""The defect catalogue stays in step with the modules that implement each defect."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import harness.sim
from harness.sim.defects import CATALOGUE, NAMES, get_defect


def implemented_defects() -> set[str]:
    """Every ``*_DEFECT`` constant defined anywhere under harness.sim."""
    found: set[str] = set()
    for info in pkgutil.walk_packages(harness.sim.__path__, "harness.sim."):
        module = importlib.import_module(info.name)
        for attr, value in vars(module).items():
            if attr.endswith("_DEFECT") and isinstance(value, str) and getattr(module, "__name__", "") == info.name:
                found.add(value)
    return found


def test_every_catalogued_defect_is_implemented_and_every_implemented_one_catalogued() -> None:
    assert implemented_defects() == set(NAMES)


def test_catalogue_has_at_least_eight_distinct_described_defects() -> None:
    assert len(CATALOGUE) >= 8 and len(NAMES) == len(CATALOGUE)
    for defect in CATALOGUE:
        assert defect.summary and defect.observable and defect.guide.startswith("§")


def test_unknown_defect_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="starttls_skipped"):
        get_defect("no-such-defect")
    assert get_defect("starttls_skipped").name == "starttls_skipped"
