"""Locator profiles: where a firmware family's Web Config keeps each page, field, button and message.

One YAML file per firmware family in ``fixtures/locators/`` (``epson-advanced.yaml`` is the default). A
locator is found by one of ``name`` (the form field's ``name=``), ``role`` (+ ``text``, its accessible
name), ``label`` (the visible label of a field) or ``css``; ``optional`` marks what a page shows only in
some states (a result box after a submit, a warning). The profile for a device comes from the inventory's
``locator_profile`` or is detected from Product Status (:func:`detect_profile`); a lab that meets an unknown
firmware captures it (``epson-hil capture``) and writes one more YAML file, no code.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from playwright.sync_api import Locator, Page
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.device.infopage import InfoPage
from harness.device.jobs import firmware_family
from harness.lab.yamlfile import InventoryError, load_yaml, validate

__all__ = [
    "DEFAULT_PROFILE", "PROFILE_DIR", "REQUIRED_LOCATORS", "LocatorProfile", "LocatorSpec", "PageSpec",
    "available_profiles", "default_profile", "detect_profile", "load_profile", "select_profile",
]

PROFILE_DIR = Path(__file__).resolve().parents[3] / "fixtures" / "locators"
DEFAULT_PROFILE = "epson-advanced"

#: The pages and locators the page objects use; a profile must name each (optional pages may be absent on a model).
REQUIRED_LOCATORS: dict[str, tuple[str, ...]] = {
    "top": ("logout",),
    "login": ("password", "submit", "result"),
    "product_status": ("values",),
    "network_status": ("network_pane", "email_pane", "fax_pane"),
    "job_history": ("jobs", "history_type", "export_csv", "result"),
    "email_basic": ("auth_method", "email_service", "current_status", "signed_in_account", "account", "password",
                    "sender", "smtp_server", "smtp_port", "secure", "cert_validation", "pop3_server", "pop3_port",
                    "sign_in", "sign_out", "ok", "result", "signin_not_saved", "signin_error", "certificate_warning"),
    "email_signin": ("current_status", "signed_in_account", "start", "user_code", "verification_uri", "message",
                     "signin_error", "result", "back"),
    "email_test": ("start", "result"),
    "ca_certificates": ("file", "import", "certificates", "rows", "delete", "result"),
    "network_interface": ("network", "ok", "result"),
    "serverless_settings": ("enabled", "sender", "ok", "result"),
    "serverless_users": ("users", "rows", "delete", "user_id", "user_name", "email", "printer_admin", "add", "result"),
    "export": ("password", "confirm", "export", "result"),
    "import": ("file", "password", "import", "result"),
}
REQUIRED_LOCATORS |= {"fax_basic": REQUIRED_LOCATORS["email_basic"], "fax_signin": REQUIRED_LOCATORS["email_signin"],
                      "fax_test": REQUIRED_LOCATORS["email_test"]}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocatorSpec(_Model):
    """How to find one element: exactly one of ``name``, ``role`` (+ ``text``), ``label``, ``css``."""

    name: str | None = None
    role: str | None = None
    text: str | None = None
    label: str | None = None
    css: str | None = None
    #: Shown only in some states (after a submit, with certain settings); a capture may lack it.
    optional: bool = False
    #: Radio buttons: the visible option (as the harness names it) → the input's ``value``.
    values: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_way(self) -> LocatorSpec:
        ways = [w for w in ("name", "role", "label", "css") if getattr(self, w)]
        if len(ways) != 1:
            got = f" (got {', '.join(ways)})" if ways else ""
            raise ValueError(f"give exactly one of name, role, label, css{got}")
        if self.text is not None and self.role is None:
            raise ValueError("text (the accessible name) goes with role")
        return self

    def resolve(self, root: Page | Locator, *, include_hidden: bool = False) -> Locator:
        """The Playwright locator, searched under ``root`` (a page, or an element such as a table row)."""
        if self.name is not None:
            return root.locator(f'[name="{_css_string(self.name)}"]')
        if self.role is not None:
            return root.get_by_role(self.role, name=self.text, exact=True,  # type: ignore[arg-type]
                                    include_hidden=include_hidden or None)
        if self.label is not None:
            return root.get_by_label(self.label, exact=True)
        assert self.css is not None
        return root.locator(self.css)

    def css_selector(self) -> str | None:
        """The locator as a selector the page's own ``querySelectorAll`` takes, or None (a role or a label)."""
        if self.name is not None:
            return f'[name="{_css_string(self.name)}"]'
        return self.css

    def value_of(self, option: str) -> str:
        """The ``value`` of a radio option named ``option``; KeyError lists the known ones."""
        try:
            return self.values[option]
        except KeyError:
            raise KeyError(f"no option {option!r} (known: {', '.join(self.values) or 'none'})") from None

    def option_of(self, value: str) -> str | None:
        return next((option for option, v in self.values.items() if v == value), None)

    def describe(self) -> str:
        if self.name is not None:
            return f"name={self.name}"
        if self.role is not None:
            return f"role={self.role}" + (f" {self.text!r}" if self.text is not None else "")
        if self.label is not None:
            return f"label={self.label!r}"
        return f"css={self.css}"


class PageSpec(_Model):
    """One page: its path (query allowed), who may see it, and its locators."""

    path: str
    title: str | None = None
    #: ``public`` pages show without a login; ``admin`` pages show the login form in place of their content.
    state: Literal["public", "admin"] = "admin"
    #: Only on models with the feature (fax server, Serverless, extended network).
    optional: bool = False
    locators: dict[str, LocatorSpec]

    @field_validator("path")
    @classmethod
    def _local(cls, v: str) -> str:
        if not v.startswith("/") or v.startswith("//"):
            raise ValueError("expected a path on the device, starting with '/'")
        return v

    @property
    def bare_path(self) -> str:
        return self.path.split("?", 1)[0]


class DetectRule(_Model):
    """Which devices a profile is for, read from Product Status; an empty list matches anything."""

    layout: Literal["advanced", "consumer", "unknown"] = "advanced"
    #: Regular expressions matched (case-insensitively, whole) against the Model value or the product name.
    models: list[str] = Field(default_factory=list)
    #: Two-letter firmware build families (``07.59.LW14NB`` → ``LW``).
    firmware_families: list[str] = Field(default_factory=list)

    @field_validator("models")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        for pattern in v:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return v

    @property
    def specificity(self) -> int:
        return bool(self.models) + bool(self.firmware_families)

    def matches(self, product: InfoPage) -> bool:
        if product.layout != self.layout:
            return False
        names = [n for n in (product.get("Model"), product.product) if n]
        if self.models and not any(re.fullmatch(p, n, re.I) for p in self.models for n in names):
            return False
        family = firmware_family(product.get("Firmware") or product.get("Firmware Version") or "")
        return not self.firmware_families or family in self.firmware_families


class Cookie(_Model):
    name: str
    value: str


class Messages(_Model):
    """Texts the device shows, by meaning (English: the page objects force it with the language cookie)."""

    setup_complete: str
    stale_token: str
    incorrect_login: str
    locked_out: str
    signed_in: str
    signed_out: str
    connection_ok: str


class LocatorProfile(_Model):
    """A firmware family's Web Config, as the page objects need it."""

    name: str
    description: str = ""
    detect: DetectRule = Field(default_factory=DetectRule)
    language_cookie: Cookie | None = None
    messages: Messages
    pages: dict[str, PageSpec]

    @model_validator(mode="after")
    def _complete(self) -> LocatorProfile:
        problems = []
        for key, names in REQUIRED_LOCATORS.items():
            spec = self.pages.get(key)
            if spec is None:
                problems.append(f"pages.{key}: missing (the page objects use it)")
                continue
            problems += [f"pages.{key}.locators.{n}: missing" for n in names if n not in spec.locators]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def page(self, key: str) -> PageSpec:
        try:
            return self.pages[key]
        except KeyError:
            raise KeyError(f"profile {self.name!r} has no page {key!r}") from None

    def locator(self, page: str, name: str) -> LocatorSpec:
        spec = self.page(page).locators.get(name)
        if spec is None:
            raise KeyError(f"profile {self.name!r}: page {page!r} has no locator {name!r}")
        return spec


def _css_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def load_profile(name_or_path: str | Path) -> LocatorProfile:
    """A profile by name (``epson-advanced``: ``fixtures/locators/epson-advanced.yaml``) or by file path."""
    path = Path(name_or_path)
    if not path.suffix and path.name == str(name_or_path):
        path = PROFILE_DIR / f"{name_or_path}.yaml"
        if not path.is_file():
            known = ", ".join(available_profiles()) or "none"
            raise InventoryError(f"no locator profile {name_or_path!r} in {PROFILE_DIR} (known: {known})")
    return _load(path.resolve())


@cache
def _load(path: Path) -> LocatorProfile:
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise InventoryError(f"{path}: (top level): expected a mapping with 'name:', 'messages:' and 'pages:'")
    return validate(LocatorProfile, data, path)


def available_profiles(directory: Path = PROFILE_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def default_profile() -> LocatorProfile:
    return load_profile(DEFAULT_PROFILE)


def detect_profile(product: InfoPage, directory: Path = PROFILE_DIR) -> LocatorProfile:
    """The most specific profile whose ``detect`` rule matches a Product Status page; else the default."""
    candidates = [_load(p.resolve()) for p in sorted(directory.glob("*.yaml"))]
    matching = [p for p in candidates if p.detect.matches(product)]
    if not matching:
        return default_profile()
    return min(matching, key=lambda p: (-p.detect.specificity, p.name != DEFAULT_PROFILE, p.name))


def select_profile(configured: str | None, product: InfoPage | None = None) -> LocatorProfile:
    """The inventory's ``locator_profile`` if set, else the one detected from ``product``, else the default."""
    if configured:
        return load_profile(configured)
    return detect_profile(product) if product is not None else default_profile()
