"""Capture a device's Web Config: every page reachable from the menu, as HTML, a screenshot and its form fields.

What a lab needs to write a locator profile for a firmware the harness does not know: log in, follow the
device's own links (same device, nothing that logs out or changes state), save each page's DOM and a full-page
screenshot, and list each form's fields (name, type, id, label, options). Secrets never reach the files: the
admin password, setup tokens, cookie values and any verification code are replaced by ``[REDACTED]`` (and
masked on screenshots); the session is logged out at the end.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from harness.device.webconfig.base import DEFAULT_TIMEOUT_MS
from harness.device.webconfig.profile import LocatorProfile, default_profile
from harness.device.webconfig.session import AdminSession, LoginPage

__all__ = ["INDEX", "REDACTED", "CaptureIndex", "CapturedPage", "capture_webconfig"]

INDEX, FORMS = "index.json", "forms.json"
REDACTED = "[REDACTED]"
TOKEN_FIELD = "INPUTT_SETUPTOKEN"
#: Links never followed: they log out, submit, delete or download.
_SKIP_LINK = re.compile(r"(?i)logout|/(?:SET|DELETE|IMPORT[^/]*|EXPORT[^/]*)$"
                        r"|\.(?:csv|json|jpe?g|png|gif|pdf|zip|bin)$")
_CODE_IN_TEXT = re.compile(r"\benter the code\s+([A-Z0-9][A-Z0-9-]{3,})", re.I)
_MIN_SECRET = 4  # shorter "secrets" would blank out ordinary text

_FORMS_JS = """() => {
  const label = e => (e.labels ? Array.from(e.labels, l => l.textContent.trim()).join(' ') : '')
    || e.getAttribute('aria-label') || '';
  const options = e => Array.from(e.options, o => ({value: o.value, text: o.text.trim(), selected: o.selected}));
  const field = e => ({
    tag: e.tagName.toLowerCase(), name: e.getAttribute('name') || '',
    type: (e.getAttribute('type') || '').toLowerCase(), id: e.id || '', label: label(e),
    value: e.type === 'password' ? '' : (e.tagName === 'SELECT' ? '' : (e.value || '')),
    checked: (e.type === 'radio' || e.type === 'checkbox') ? e.checked : undefined,
    readonly: e.readOnly || undefined, hidden: e.type === 'hidden' || e.offsetParent === null || undefined,
    text: e.tagName === 'BUTTON' ? e.textContent.trim() : undefined,
    onclick: e.getAttribute('onclick') || undefined,
    options: e.tagName === 'SELECT' ? options(e) : undefined,
  });
  const forms = Array.from(document.forms, f => ({
    id: f.id || '', name: f.getAttribute('name') || '', action: f.getAttribute('action') || '',
    method: (f.getAttribute('method') || 'get').toLowerCase(), enctype: f.getAttribute('enctype') || '',
    inputs: Array.from(f.elements).filter(e => /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(e.tagName)).map(field),
  }));
  const loose = Array.from(document.querySelectorAll('input,select,textarea,button')).filter(e => !e.form);
  if (loose.length) {
    forms.push({id: '', name: '(outside any form)', action: '', method: '', enctype: '', inputs: loose.map(field)});
  }
  return forms;
}"""


@dataclass(frozen=True)
class CapturedPage:
    """One saved page; ``state`` says whether it was taken before (public) or after the admin login."""

    path: str
    url: str
    title: str
    state: str
    status: int
    html: str
    screenshot: str
    forms: int


@dataclass
class CaptureIndex:
    """What ``index.json`` lists: the pages saved, the links skipped or failing, the cookies' names."""

    base_url: str
    profile: str
    pages: list[CapturedPage] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    cookies: list[dict[str, str]] = field(default_factory=list)


class _Capturer:
    def __init__(self, page: Page, base_url: str, out: Path, profile: LocatorProfile, secrets: set[str],
                 timeout_ms: float) -> None:
        self.page, self.base_url, self.out, self.profile = page, base_url.rstrip("/"), out, profile
        self.secrets = {s for s in secrets if len(s) >= _MIN_SECRET}
        self.timeout_ms = timeout_ms
        self.index = CaptureIndex(self.base_url, profile.name)
        self.forms: dict[str, Any] = {}
        self.origin = urlsplit(self.base_url)[:2]
        self.public_cookies = {profile.language_cookie.name} if profile.language_cookie else set()
        self.cookies: dict[str, dict[str, str]] = {}

    def crawl(self, start: list[str], state: str, *, follow: bool, max_pages: int) -> None:
        queue = deque(start)
        seen: set[str] = set()
        while queue and len(self.index.pages) < max_pages:
            target = queue.popleft()
            if target in seen:
                continue
            seen.add(target)
            links = self.capture(target, state)
            if follow:
                queue.extend(link for link in links if link not in seen)

    def capture(self, target: str, state: str) -> list[str]:
        """Save one page; return the local links it shows."""
        try:
            response = self.page.goto(self.base_url + target, wait_until="load", timeout=self.timeout_ms)
        except PlaywrightError as exc:
            self.index.skipped.append({"path": target, "reason": str(exc).splitlines()[0]})
            return []
        status = response.status if response is not None else 0
        content_type = (response.headers.get("content-type", "") if response is not None else "").lower()
        if content_type and "html" not in content_type:
            self.index.skipped.append({"path": target, "reason": f"not a page ({content_type})"})
            return []
        final = _local(self.page.url)
        if any(p.path == final and p.state == state for p in self.index.pages):
            return []  # a redirect to a page already saved
        self.secrets |= self._secrets_on_page()
        slug = f"{_slug(final)}.{state}"
        html_name, shot_name = f"pages/{slug}.html", f"pages/{slug}.png"
        (self.out / "pages").mkdir(parents=True, exist_ok=True)
        (self.out / html_name).write_text(self.redact(self.page.content()), encoding="utf-8")
        self.page.screenshot(path=str(self.out / shot_name), full_page=True, mask=self._masks(),
                             timeout=self.timeout_ms)
        forms = self.page.evaluate(_FORMS_JS)
        self.forms[f"{final} ({state})"] = json.loads(self.redact(json.dumps(_redact_fields(forms))))
        title = self.page.locator("div.header-main")
        shown_title = title.first.inner_text().strip() if title.count() else self.page.title()
        self.index.pages.append(CapturedPage(final, self.page.url.split("?")[0], self.redact(shown_title), state,
                                             status, html_name, shot_name, len(forms)))
        return self._links()

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def _secrets_on_page(self) -> set[str]:
        found = {v for v in self.page.locator(f'[name="{TOKEN_FIELD}"]').evaluate_all("es => es.map(e => e.value)")
                 if isinstance(v, str) and len(v) >= _MIN_SECRET}
        for cookie in self.page.context.cookies():
            public = cookie["name"] in self.public_cookies
            self.cookies[cookie["name"]] = {"name": cookie["name"], "path": cookie.get("path", "/"),
                                            "value": cookie.get("value", "") if public else REDACTED}
            if not public and len(cookie.get("value", "")) >= _MIN_SECRET:
                found.add(cookie.get("value", ""))
        return found | set(_CODE_IN_TEXT.findall(self._text()))

    def _text(self) -> str:
        body = self.page.locator("body")
        return body.inner_text() if body.count() else ""

    def _masks(self) -> list[Any]:
        """Password fields, and every element showing a secret (a code; a password that is also the serial)."""
        shown = self._text()
        return [self.page.locator('input[type="password"]')] + [
            self.page.get_by_text(secret) for secret in sorted(self.secrets) if secret in shown]

    def _links(self) -> list[str]:
        hrefs = self.page.locator("a[href]").evaluate_all("as => as.map(a => a.getAttribute('href'))")
        links = []
        for href in hrefs:
            absolute = urljoin(self.page.url, str(href))
            parts = urlsplit(absolute)
            if parts[:2] != self.origin or parts.scheme not in ("http", "https"):
                continue
            local = _local(absolute)
            if not _SKIP_LINK.search(parts.path) and local not in links:
                links.append(local)
        return links

    def finish(self) -> CaptureIndex:
        self.index.cookies = list(self.cookies.values())
        payload = {"base_url": self.index.base_url, "profile": self.index.profile,
                   "pages": [asdict(p) for p in self.index.pages], "skipped": self.index.skipped,
                   "cookies": self.index.cookies}
        (self.out / INDEX).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (self.out / FORMS).write_text(json.dumps(self.forms, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return self.index


def capture_webconfig(browser: Browser, base_url: str, password: str, out: Path, *,
                      profile: LocatorProfile | None = None, extra_paths: tuple[str, ...] = (), max_pages: int = 100,
                      ignore_https_errors: bool = False, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> CaptureIndex:
    """Capture the Web Config at ``base_url`` into ``out`` (``index.json``, ``forms.json``, ``pages/``).

    ``profile`` gives the login page and the top page (the default profile's are Epson's advanced ones);
    ``extra_paths`` are pages reachable only through buttons (e.g. the Sign In screen). Login failures
    raise as the page objects do (LoginRefused, LockedOut, WebConfigUnreachable).
    """
    profile = profile or default_profile()
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(ignore_https_errors=ignore_https_errors)
    try:
        page = context.new_page()
        login = LoginPage(page, base_url, profile, timeout_ms=timeout_ms)
        login.force_english()
        capturer = _Capturer(page, base_url, out, profile, {password}, timeout_ms)
        top, login_path = profile.page("top").path, profile.page("login").path
        capturer.crawl([top, login_path], "public", follow=False, max_pages=max_pages)
        login.log_in(password)
        session = AdminSession(page, base_url, profile, timeout_ms=timeout_ms)
        try:
            capturer.crawl([top, *extra_paths], "admin", follow=True, max_pages=max_pages)
        finally:
            session.log_out()
        return capturer.finish()
    finally:
        context.close()


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _slug(local: str) -> str:
    text = local.removeprefix("/PRESENTATION/").strip("/") or "root"
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:120] or "root"


def _redact_fields(forms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for form in forms:
        for item in form["inputs"]:
            if item.get("name") == TOKEN_FIELD or item.get("type") == "password":
                item["value"] = REDACTED if item.get("value") else ""
            for key in [k for k, v in item.items() if v is None]:
                del item[key]
    return forms
