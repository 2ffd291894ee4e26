"""Web Config's language choice: the ``EPSON_COOKIE_LANG`` cookie (``lang_b&1/lang_a&1``; 1 = English).

The virtual device has English pages only: any other language is read and remembered, and the pages fall
back to English, as a device without that language pack would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COOKIE = "EPSON_COOKIE_LANG"
ENGLISH = "1"
#: Language numbers Epson's selector uses (SEL_LANGA / SEL_LANGB); the simulator renders English for all.
LANGUAGES: dict[str, str] = {
    "1": "English", "2": "Français", "4": "Deutsch", "3": "Italiano", "5": "Español", "6": "Português",
    "7": "Nederlands", "10": "繁體中文", "11": "简体中文", "9": "한국어",
}
_ENTRY = re.compile(r"lang_([ab])&(\d{1,3})")


@dataclass(frozen=True)
class Language:
    """What the browser asked for and what the page is rendered in."""

    requested: str
    html_lang: str = "en"

    @property
    def fallback(self) -> bool:
        return self.requested != ENGLISH


def from_cookie(value: str | None) -> Language:
    """The language of a request's ``EPSON_COOKIE_LANG`` value (``lang_a`` wins over ``lang_b``)."""
    found = dict(_ENTRY.findall(value or ""))
    requested = found.get("a") or found.get("b") or ENGLISH
    return Language(requested if requested in LANGUAGES else ENGLISH)


def cookie_value(number: str) -> str:
    """The cookie value that selects language ``number`` for both selectors."""
    return f"lang_b&{number}/lang_a&{number}"
