"""One browser round trip for a page's fields: presence, visibility, text, value, choice, all read at once.

Reading a form field by field costs a round trip to the browser each (about 4 ms here, a whole page read ~20 of
them), and the first Playwright locator call on a new document also builds Playwright's utility world (~15 ms,
~25 ms for a role, whose accessible names Playwright computes for the whole page). A :class:`PageReading` asks
the page once, in its own JavaScript world, for every field whose locator it can resolve there: plain CSS (the
profile's ``name`` and ``css`` locators) and buttons by role and exact name (Web Config's Sign Out, OK, Start).
Anything else (another role, a label, Playwright's own CSS extensions) is read through Playwright as before, so
a profile never has to change for it. Like Playwright's locators, the quick read searches the page's main frame;
unlike them, it does not look inside shadow roots, which Web Config pages do not use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page

from harness.device.webconfig.profile import LocatorSpec

#: The page navigated (a meta refresh, the Sign In screen reloading itself) while it was being read.
NAVIGATED = re.compile(r"Execution context was destroyed|navigat", re.IGNORECASE)

#: Playwright's visibility: a rendered box of non-zero size and ``visibility: visible``.
VISIBLE_JS = """e => {
    if (getComputedStyle(e).visibility !== 'visible') return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }"""

#: The elements one query finds: ``{css}`` (``querySelectorAll``, which throws on a selector it does not take) or
#: ``{button}``, the buttons whose accessible name is exactly that text, as ``getByRole('button', {name, exact})``
#: finds them: ``button`` and button-type ``input`` elements and ``role="button"``, not hidden from assistive
#: technology (``display: none``, ``visibility: hidden``, ``aria-hidden``), named by ``aria-labelledby``,
#: ``aria-label``, an input's value (or its default, Submit/Reset) or else their text, whitespace collapsed.
QUERY_JS = """q => {
  if (q.css !== undefined) return Array.from(document.querySelectorAll(q.css));
  const norm = s => (s || '').replace(/\\s+/g, ' ').trim();
  const role = e => {
    const given = (e.getAttribute('role') || '').trim().split(/\\s+/)[0].toLowerCase();
    if (given) return given;
    if (e.localName === 'button') return 'button';
    const type = (e.getAttribute('type') || '').toLowerCase();
    return e.localName === 'input' && ['button', 'submit', 'reset', 'image'].includes(type) ? 'button' : '';
  };
  const hidden = e => {
    if (getComputedStyle(e).visibility !== 'visible') return true;
    for (let n = e; n; n = n.parentElement) {
      if (n.getAttribute('aria-hidden') === 'true' || getComputedStyle(n).display === 'none') return true;
    }
    return false;
  };
  const name = e => {
    const ids = (e.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean);
    const labelled = norm(ids.map(id => (document.getElementById(id) || {}).textContent || '').join(' '));
    if (labelled) return labelled;
    const label = norm(e.getAttribute('aria-label'));
    if (label) return label;
    if (e.localName === 'input') {
      const type = (e.getAttribute('type') || '').toLowerCase();
      const value = norm(type === 'image' ? e.getAttribute('alt') : e.getAttribute('value'));
      return value || (type === 'reset' ? 'Reset' : type === 'button' ? norm(e.getAttribute('title')) : 'Submit');
    }
    return norm(e.innerText) || norm(e.getAttribute('title'));
  };
  return Array.from(document.querySelectorAll('button, input, [role]'))
    .filter(e => role(e) === 'button' && !hidden(e) && name(e) === q.button);
}"""

#: Reads every query of ``specs`` (name -> query); null for a selector the browser does not accept.
READ_FIELDS_JS = """specs => {
  const visible = VISIBLE;
  const query = QUERY;
  const out = {};
  for (const [name, q] of Object.entries(specs)) {
    let found;
    try { found = query(q); } catch (e) { out[name] = null; continue; }
    const first = found[0];
    const checked = found.find(e => e.matches(':checked'));
    out[name] = {
      count: found.length,
      visible: first ? visible(first) : false,
      texts: found.map(e => e.innerText),
      value: first && first.value != null ? String(first.value) : '',
      selected: first && first.options && first.selectedIndex >= 0 ? first.options[first.selectedIndex].text : '',
      checked: checked ? checked.getAttribute('value') : null,
      html: first ? first.outerHTML : '',
      href: first ? first.getAttribute('href') : null,
    };
  }
  return out;
}""".replace("VISIBLE", VISIBLE_JS).replace("QUERY", QUERY_JS)


def main_world_query(spec: LocatorSpec) -> dict[str, str] | None:
    """``spec`` as a query the page can answer in its own world (see QUERY_JS), or None: Playwright must look."""
    css = spec.css_selector()
    if css is not None:
        return {"css": css}
    if spec.role == "button" and spec.text is not None:
        return {"button": " ".join(spec.text.split())}
    return None


#: True once an element of one of ``targets`` ([selector, exact text or null]) is visible with that text.
SHOWN_JS = """targets => targets.some(([q, text]) => (QUERY)(q).some(
  e => (text === null || e.textContent.trim() === text) && (VISIBLE)(e)))""".replace("VISIBLE", VISIBLE_JS).replace(
    "QUERY", QUERY_JS)
#: How often :func:`wait_until_shown` looks. Playwright's own waits back off to every 500 ms after the first
#: 170 ms, which made every sign-in wait up to half a second longer than the device took.
WAIT_POLL_MS = 50


def wait_until_shown(page: Page, targets: Iterable[tuple[LocatorSpec, str | None]], timeout_ms: float) -> bool:
    """Wait until one target (a locator, and the exact text it must show, or None) is visible; False if one cannot
    be queried in the page's world (the caller waits through Playwright instead). Raises Playwright's TimeoutError.

    A page already showing a target costs one evaluation; only then does it wait (``wait_for_function`` first
    installs Playwright's injected script in the page, ~15 ms a document).
    """
    queries = [(main_world_query(spec), text) for spec, text in targets]
    if any(query is None for query, _ in queries):
        return False
    arg = [[query, text] for query, text in queries]
    try:
        if page.evaluate(SHOWN_JS, arg):
            return True
    except PlaywrightError as exc:
        if not NAVIGATED.search(str(exc)):
            raise
    page.wait_for_function(SHOWN_JS, arg=arg, polling=WAIT_POLL_MS, timeout=timeout_ms)
    return True


@dataclass(frozen=True)
class FieldReading:
    """One locator's elements as the page showed them: how many, whether the first is visible, its contents."""

    count: int
    visible: bool
    texts: tuple[str, ...]
    value: str
    selected: str
    #: The ``value`` attribute of the first checked element (a radio group's choice), if any.
    checked: str | None
    #: The first element's markup (a pane or a table, parsed by the caller).
    html: str
    #: The first element's ``href`` (a link), if it has one.
    href: str | None


def read_fields(page: Page, specs: Mapping[str, LocatorSpec]) -> dict[str, FieldReading]:
    """Read every locator of ``specs`` the page can answer itself in one evaluation; the others are left out.

    A page that navigates meanwhile gives an empty answer: every field is then read through Playwright.
    """
    queries = {name: query for name, spec in specs.items() if (query := main_world_query(spec)) is not None}
    if not queries:
        return {}
    try:
        answer: dict[str, Any] = page.evaluate(READ_FIELDS_JS, queries)
    except PlaywrightError as exc:
        if not NAVIGATED.search(str(exc)):
            raise
        return {}  # Playwright's locators wait for the new document
    return {name: FieldReading(count=int(got["count"]), visible=bool(got["visible"]),
                               texts=tuple(str(t) for t in got["texts"]), value=str(got["value"]),
                               selected=str(got["selected"]).strip(), checked=got["checked"],
                               html=str(got["html"]), href=got["href"])
            for name, got in answer.items() if got is not None}


def text_lines(texts: Iterable[str]) -> tuple[str, ...]:
    """The non-blank lines of some elements' texts, stripped (a result box: one line per message)."""
    return tuple(line.strip() for text in texts for line in text.splitlines() if line.strip())


class PageReading:
    """A page's fields read at once; each accessor answers as the page object's own reader would."""

    def __init__(self, fields: Mapping[str, FieldReading], specs: Mapping[str, LocatorSpec],
                 locate: Callable[[str], Locator], said: Callable[[tuple[str, ...]], None]) -> None:
        self._fields = fields
        self._specs = specs
        self._locate = locate
        self._said = said

    def _read(self, name: str) -> FieldReading | None:
        """The quick read of ``name``, or None when Playwright must look (not plain CSS, or the page navigated)."""
        if name not in self._specs:
            raise KeyError(f"{name!r} was not read (read: {', '.join(self._specs)})")
        return self._fields.get(name)

    def count(self, name: str) -> int:
        got = self._read(name)
        return got.count if got is not None else self._locate(name).count()

    def shown(self, name: str) -> bool:
        """Whether the first element ``name`` matches is visible (False when none matches)."""
        got = self._read(name)
        return got.visible if got is not None else self._locate(name).first.is_visible()

    def texts(self, name: str) -> tuple[str, ...]:
        got = self._read(name)
        return got.texts if got is not None else tuple(self._locate(name).all_inner_texts())

    def text(self, name: str) -> str:
        """The first element's text, whitespace collapsed ('' when none matches)."""
        texts = self.texts(name)
        return " ".join(texts[0].split()) if texts else ""

    def lines(self, name: str) -> tuple[str, ...]:
        """Every element's visible text lines, noted as what the device said."""
        lines = text_lines(self.texts(name))
        self._said(lines)
        return lines

    def value(self, name: str) -> str:
        got = self._read(name)
        if got is not None:
            return got.value
        return str(self._locate(name).evaluate_all("es => es.length ? es[0].value ?? '' : ''"))

    def selected(self, name: str) -> str:
        got = self._read(name)
        if got is not None:
            return got.selected
        return str(self._locate(name).evaluate_all(
            "es => es.length > 0 && es[0].selectedIndex >= 0 ? es[0].options[es[0].selectedIndex].text : ''")).strip()

    def checked_value(self, name: str) -> str | None:
        """The ``value`` of the checked element among ``name``'s matches (a radio group's choice)."""
        got = self._read(name)
        if got is not None:
            return got.checked
        found = self._locate(name).and_(self._locate(name).page.locator(":checked"))
        value = found.evaluate_all("es => es.length ? es[0].getAttribute('value') : null")
        return None if value is None else str(value)

    def html(self, name: str) -> str:
        """The first matching element's markup ('' when none matches)."""
        got = self._read(name)
        if got is not None:
            return got.html
        found = self._locate(name)
        return str(found.first.evaluate("e => e.outerHTML")) if found.count() else ""

    def href(self, name: str) -> str | None:
        """The first matching element's ``href`` (None when it has none, or nothing matches)."""
        got = self._read(name)
        if got is not None:
            return got.href
        found = self._locate(name)
        return found.first.get_attribute("href") if found.count() else None
