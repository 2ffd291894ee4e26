"""The guide's claims catalogue (``suites/guide-claims.yaml``): each claim or step with the tests that check it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.lab.yamlfile import load_yaml, validate
from harness.reporting.record import Claim

#: The catalogue of the checkout's suites.
CLAIMS_FILE = Path(__file__).resolve().parents[2] / "suites" / "guide-claims.yaml"


class ClaimsCatalogue(BaseModel):
    """The whole catalogue file: a list of claims with unique ids."""

    model_config = ConfigDict(extra="forbid")

    claims: list[Claim] = Field(min_length=1)

    @model_validator(mode="after")
    def _checks(self) -> ClaimsCatalogue:
        seen: set[str] = set()
        for i, claim in enumerate(self.claims):
            if claim.id in seen:
                raise ValueError(f"claims[{i}].id: {claim.id!r} is used twice; ids must be unique")
            seen.add(claim.id)
            bad = [t for t in claim.tests if "::" not in t or not t.split("::")[0].endswith(".py")]
            if bad:
                raise ValueError(f"claims[{i}] ({claim.id}).tests: expected 'suites/test_x.py::test_name', "
                                 f"got {bad[0]!r}")
        return self


def load_claims(path: Path = CLAIMS_FILE) -> list[Claim]:
    """The claims of ``path``; errors name the file and the key."""
    return validate(ClaimsCatalogue, load_yaml(path), path).claims


def claims_by_test(claims: list[Claim]) -> dict[str, list[str]]:
    """Claim ids per test id (``suites/test_x.py::test_name``), in catalogue order."""
    found: dict[str, list[str]] = {}
    for claim in claims:
        for test in claim.tests:
            found.setdefault(test, []).append(claim.id)
    return found
