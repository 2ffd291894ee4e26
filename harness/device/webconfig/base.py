"""What every Web Config page object shares: opening a page, finding its locators, submitting, reading results.

A page object drives one Playwright ``Page`` (sync API) on one device (``base_url``), with the selectors of a
:class:`~harness.device.webconfig.profile.LocatorProfile`. English is forced with the profile's language
cookie. Every action waits on the device's own signals (navigation, then the result box) and never sleeps;
the result decides: the success text, a stale setup token, the login form, or a refusal quoting the page.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self, TypeVar
from urllib.parse import urlencode

from playwright.sync_api import Dialog, Download, Locator, Page
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harness.device.htmltree import Element, parse_html
from harness.device.webconfig.errors import (
    LoginRequired,
    PageNotFound,
    StaleSetupToken,
    WebConfigPageError,
    WebConfigRefused,
    WebConfigUnreachable,
)
from harness.device.webconfig.profile import LocatorProfile, LocatorSpec, PageSpec, default_profile
from harness.device.webconfig.reading import PageReading, read_fields, wait_until_shown
from harness.reporting import evidence
from harness.reporting.steps import step

DEFAULT_TIMEOUT_MS = 15_000
#: Playwright's and Chromium's words when a page's own navigation cut ours short.
INTERRUPTED = re.compile(r"is interrupted by another navigation|net::ERR_ABORTED")
_NET_ERROR = re.compile(r"net::ERR_[A-Z_]+")
P = TypeVar("P", bound="WebConfigPage")


@dataclass(frozen=True)
class Downloaded:
    """A file the device sent (CSV export, settings export)."""

    filename: str
    content: bytes = field(repr=False)


#: The document as ``page.content()`` gives it: the doctype, then the root element's markup.
MARKUP_JS = """() => (document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '')
  + document.documentElement.outerHTML"""


class WebConfigPage:
    """Base of the page objects; ``page_key`` names the page in the profile."""

    page_key: ClassVar[str]

    def __init__(self, page: Page, base_url: str, profile: LocatorProfile | None = None, *,
                 timeout_ms: float = DEFAULT_TIMEOUT_MS, admin_password: str | None = None) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.profile = profile or default_profile()
        self.timeout_ms = timeout_ms
        #: Given, a page that asks for the administrator login gets it and is opened again (see :meth:`open`).
        self.admin_password = admin_password

    def sibling(self, cls: type[P]) -> P:
        """Another page object on the same browser page, device, profile and login."""
        return cls(self.page, self.base_url, self.profile, timeout_ms=self.timeout_ms,
                   admin_password=self.admin_password)

    # --- where ----------------------------------------------------------------------------------------------
    @property
    def spec(self) -> PageSpec:
        return self.profile.page(self.page_key)

    @property
    def title(self) -> str:
        return self.spec.title or self.page_key

    def url(self, query: Mapping[str, str] | None = None) -> str:
        path = self.spec.path
        if query:
            path = f"{self.spec.bare_path}?{urlencode(query)}"
        return self.base_url + path

    @step("{device}: open {self.title}")
    def open(self, query: Mapping[str, str] | None = None) -> Self:
        """Load the page (English); raise if the device is unreachable, lacks it, or asks for the login.

        With ``admin_password``, a login form in the page's place (a new browser context, a session the device
        ended) is answered and the page loaded again: a kept session costs no login page load per test.
        """
        self.force_english()
        url = self.url(query)
        self._load(url)
        if self.admin_password is not None and self.spec.state == "admin" and self.login_form_shown():
            from harness.device.webconfig.session import LoginPage  # session.py builds on this module

            self.sibling(LoginPage).log_in(self.admin_password, open_page=False)
            self._load(url)
        self.require_session()
        return self

    def _load(self, url: str) -> None:
        with self.translated(f"opening {self.title}"):
            try:
                response = self.page.goto(url, wait_until="load", timeout=self.timeout_ms)
            except PlaywrightError as exc:
                if not INTERRUPTED.search(str(exc)):
                    raise
                # The page was navigating itself (the entry page's meta refresh, the Sign In screen reloading when
                # its polling ends): let that navigation land, then load ours.
                self.page.wait_for_load_state("load", timeout=self.timeout_ms)
                response = self.page.goto(url, wait_until="load", timeout=self.timeout_ms)
        if response is not None and response.status == 404:
            raise PageNotFound(f"{url}: HTTP 404 (the model lacks {self.title!r}, or the profile's path is wrong)")
        if response is not None and response.status >= 400:
            raise WebConfigPageError(f"{url}: HTTP {response.status}")

    def force_english(self) -> None:
        cookie = self.profile.language_cookie
        if cookie is not None:
            self.page.context.add_cookies([{"name": cookie.name, "value": cookie.value, "url": self.base_url + "/"}])

    # --- finding --------------------------------------------------------------------------------------------
    def locator_spec(self, name: str, page_key: str | None = None) -> LocatorSpec:
        return self.profile.locator(page_key or self.page_key, name)

    def loc(self, name: str, *, within: Locator | None = None, page_key: str | None = None) -> Locator:
        """The profile's locator ``name`` of this page (or of ``page_key``), optionally inside ``within``."""
        return self.locator_spec(name, page_key).resolve(within or self.page)

    def reading(self, *names: str, page_key: str | None = None) -> PageReading:
        """Read the locators ``names`` of this page (or of ``page_key``) in one browser round trip (reading.py)."""
        specs = {name: self.locator_spec(name, page_key) for name in names}
        return PageReading(read_fields(self.page, specs), specs, lambda name: self.loc(name, page_key=page_key),
                           lambda lines: evidence.said(f"Web Config {self.title}", lines))

    def markup(self) -> str:
        """The page's HTML as it stands, read in its own world (``page.content()`` builds the utility world)."""
        with self.translated(f"reading {self.title}"):
            return str(self.page.evaluate(MARKUP_JS))

    def shown(self, name: str) -> bool:
        """Whether the page shows ``name`` now (present and visible); never waits."""
        return self.reading(name).shown(name)

    def login_form_shown(self) -> bool:
        return self.reading("password", page_key="login").count("password") > 0

    def require_session(self) -> None:
        if self.spec.state == "admin" and self.login_form_shown():
            raise self.login_required()

    def login_required(self) -> LoginRequired:
        shown = self.lines("result", page_key="login") or ("The page asks for the administrator login.",)
        return LoginRequired(shown, page=self.title)

    def lines(self, name: str, *, page_key: str | None = None) -> tuple[str, ...]:
        """The visible text lines of every element ``name`` matches (a result box: one line per message)."""
        return self.reading(name, page_key=page_key).lines(name)

    def text(self, name: str) -> str:
        return self.reading(name).text(name)

    def wait_shown(self, *targets: str | tuple[str, str], what: str, timeout_ms: float | None = None) -> None:
        """Wait until one of ``targets`` shows: a locator name, or (name, the exact text it must show).

        Waits in the page's own world when every target can be queried there (reading.py), so a page that already
        shows one costs a single round trip and no Playwright utility world; else through Playwright's locators.
        """
        timeout = timeout_ms or self.timeout_ms
        pairs = [(target, None) if isinstance(target, str) else target for target in targets]
        try:
            if wait_until_shown(self.page, [(self.locator_spec(name), text) for name, text in pairs], timeout):
                return
            either: Locator | None = None
            for name, text in pairs:
                found = self.loc(name) if text is None else self.loc(name).filter(has_text=_exactly(text))
                either = found if either is None else either.or_(found)
            assert either is not None, "wait_shown needs a target"
            either.first.wait_for(state="visible", timeout=timeout)
        except PlaywrightTimeout:
            raise WebConfigPageError(f"{self.page.url}: {self.title}: {what} did not show in time") from None
        except PlaywrightError as exc:
            raise self.translate(exc, what) from None

    # --- form fields ----------------------------------------------------------------------------------------
    def fill(self, name: str, value: str) -> None:
        field = self.loc(name)
        if not field.is_editable(timeout=self.timeout_ms):
            raise ValueError(f"{self.title}: {name} is read-only now (the page fixes its value)")
        field.fill(value, timeout=self.timeout_ms)

    def select(self, name: str, label: str) -> None:
        """Choose a drop-down option by its visible (English) text; the page's own onchange script runs."""
        offered = self.options(name)
        if label not in offered:
            raise ValueError(f"{self.title}: {name} has no option {label!r} (it offers {', '.join(offered) or 'none'})")
        self.loc(name).select_option(label=label, timeout=self.timeout_ms)

    def selected(self, name: str) -> str:
        return self.reading(name).selected(name)

    def options(self, name: str) -> list[str]:
        texts = self.loc(name).evaluate_all("es => es.length ? Array.from(es[0].options, o => o.text) : []")
        return [t.strip() for t in texts]

    def check(self, name: str, option: str) -> None:
        """Check the radio button ``option`` (by the profile's option → value map)."""
        spec = self.locator_spec(name)
        value = spec.value_of(option)
        self.loc(name).and_(self.page.locator(f'[value="{value}"]')).check(timeout=self.timeout_ms)

    def checked(self, name: str, reading: PageReading | None = None) -> str | None:
        """The checked radio option's name (None when none is checked or its value is unknown)."""
        value = (reading or self.reading(name)).checked_value(name)
        return None if value is None else self.locator_spec(name).option_of(value)

    def value(self, name: str) -> str:
        return self.reading(name).value(name)

    # --- submitting -----------------------------------------------------------------------------------------
    def submit(self, button: str, *, result: str = "result") -> tuple[str, ...]:
        """Click ``button``, wait for the device's answer page and its result box; return its lines on success.

        Raises :class:`StaleSetupToken`, :class:`LoginRequired` or :class:`WebConfigRefused` quoting the page.
        """
        self.click_and_wait(button)
        return self.result(result)

    def click_and_wait(self, button: str, *, within: Locator | None = None) -> None:
        """Click ``button`` and wait until the page it leads to has loaded.

        A confirmation the device asks for on the way (``confirm()``, as some firmware does) is accepted: the
        caller asked for the action. Playwright would otherwise dismiss it and the action silently not happen.
        """
        def accept(dialog: Dialog) -> None:
            dialog.accept()

        self.page.on("dialog", accept)
        try:
            with self.translated(f"{self.title}: {button}"), self.page.expect_navigation(
                    wait_until="load", timeout=self.timeout_ms):
                self.loc(button, within=within).click(timeout=self.timeout_ms)
        finally:
            self.page.remove_listener("dialog", accept)

    def result(self, name: str = "result") -> tuple[str, ...]:
        """Read the result box after a submit and sort it into success or a typed refusal."""
        page = self.reading(name)
        if not page.count(name):
            if self.login_form_shown():
                raise self.login_required()
            raise WebConfigPageError(f"{self.page.url}: {self.title}: the device showed no result")
        messages = page.lines(name)
        self.raise_for(messages)
        return messages

    def raise_for(self, messages: tuple[str, ...]) -> None:
        texts = self.profile.messages
        if messages == (texts.setup_complete,):
            return
        if texts.stale_token in messages:
            raise StaleSetupToken(messages, page=self.title)
        raise WebConfigRefused(messages, page=self.title)

    def download(self, button: str) -> Downloaded:
        """Click ``button`` of a form whose answer is a file; a page in its place is read as a refusal."""
        downloads: list[Download] = []

        def handler(file: Download) -> None:  # Playwright tags the handler: a plain function, not a builtin
            downloads.append(file)

        self.page.on("download", handler)
        try:
            with self.translated(f"{self.title}: {button}"):
                with self.page.expect_response(lambda r: r.request.method == "POST",
                                               timeout=self.timeout_ms) as answer:
                    self.loc(button).click(timeout=self.timeout_ms)
                response = answer.value
                if "attachment" in (response.headers.get("content-disposition") or "").lower():
                    file = downloads[0] if downloads else self.page.wait_for_event("download", timeout=self.timeout_ms)
                    return Downloaded(file.suggested_filename, Path(file.path()).read_bytes())
                self.page.wait_for_url(response.url, wait_until="load", timeout=self.timeout_ms)
        finally:
            self.page.remove_listener("download", handler)
        self.result()
        raise WebConfigPageError(f"{self.page.url}: {self.title}: {button} gave a page, not a file")

    # --- tables ---------------------------------------------------------------------------------------------
    def table_rows(self, name: str) -> list[dict[str, str]]:
        """Rows of the table ``name`` as header → cell text (columns found by their header, never position)."""
        html = self.reading(name).html(name)
        if not html:
            return []
        root = parse_html(html)
        rows = [[c.text() for c in r.children if isinstance(c, Element) and c.tag in ("td", "th")]
                for r in root.find_all("tr")]
        rows = [r for r in rows if r]
        if not rows:
            return []
        header = rows[0]
        return [{h: cell for h, cell in zip(header, row, strict=False) if h} for row in rows[1:]]

    # --- errors ---------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def translated(self, what: str) -> Iterator[None]:
        """Turn Playwright's errors into the harness's: network failures are infra, timeouts a page error."""
        try:
            yield
        except PlaywrightTimeout:
            raise WebConfigPageError(f"{self.base_url}: {what}: the device did not answer in time") from None
        except PlaywrightError as exc:
            raise self.translate(exc, what) from None

    def translate(self, exc: PlaywrightError, what: str) -> Exception:
        found = _NET_ERROR.search(str(exc))
        if found:
            return WebConfigUnreachable(f"{self.base_url}: {what}: {found.group(0)}")
        return WebConfigPageError(f"{self.base_url}: {what}: {str(exc).splitlines()[0]}")


def _exactly(text: str) -> re.Pattern[str]:
    """Matches an element whose whole text is ``text`` (Current Status, not a sentence containing it)."""
    return re.compile(rf"^\s*{re.escape(text)}\s*$")
