"""Failure evidence from the harness's browser contexts: a screenshot and the source of every open page, the trace.

Every context the harness opens for Web Config or Microsoft's pages is watched: it records a Playwright trace
(actions, network, console) in one chunk per test. When a test fails, every open page is photographed, its
HTML kept as it stands, and each context's chunk saved as evidence; when it passes, the chunk is dropped
unsaved. A context closed by an exception inside a test (a Microsoft sign-in that broke) keeps its evidence
until the test's outcome is known.

DOM snapshots in the trace (the page before and after every action) are off unless asked for
(``--trace-snapshots``): they cost about 15% of a run's CPU, and the failing page's own HTML and screenshot
are kept without them. Trace screenshots (a screencast) are never recorded.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

from harness.reporting import evidence
from harness.reporting.record import AttachmentKind
from harness.reporting.steps import step_title

#: Playwright's own media type for a trace, which Allure 3 opens in its trace viewer.
TRACE_MEDIA_TYPE = "application/vnd.allure.playwright-trace"
SCREENSHOT_TIMEOUT_MS = 5_000


@dataclass
class _Watched:
    context: BrowserContext
    label: str
    chunk_open: bool = True


@dataclass(frozen=True)
class _Kept:
    """Evidence taken from a context just before it closed, waiting for the test's outcome."""

    name: str
    path: Path
    kind: AttachmentKind
    media_type: str
    extension: str


class BrowserEvidence:
    """The watched contexts of this process and the evidence kept from those that closed during a test."""

    def __init__(self) -> None:
        self._watched: dict[int, _Watched] = {}
        self._kept: list[_Kept] = []
        self._lock = threading.Lock()
        self._spool = Path(tempfile.mkdtemp(prefix="browser-evidence-"))
        self._serial = 0
        #: Record DOM snapshots in traces (``--trace-snapshots``); applies to contexts watched from now on.
        self.snapshots = False

    def watch(self, context: BrowserContext, label: str) -> None:
        """Start tracing ``context`` (its first chunk belongs to the test running now)."""
        try:
            context.tracing.start(snapshots=self.snapshots, screenshots=False, sources=False)
        except PlaywrightError:
            return  # already traced by someone else: leave it alone
        with self._lock:
            self._watched[id(context)] = _Watched(context, label)
        context.on("close", self.forget)

    def forget(self, context: BrowserContext) -> None:
        with self._lock:
            self._watched.pop(id(context), None)

    def begin_test(self) -> None:
        """A new trace chunk for each watched context whose previous chunk ended."""
        for watched in self._contexts():
            if not watched.chunk_open:
                with contextlib.suppress(PlaywrightError):
                    watched.context.tracing.start_chunk()
                    watched.chunk_open = True

    def end_test(self) -> None:
        """Drop the unsaved chunks and whatever closed contexts left behind (the test is over)."""
        for watched in self._contexts():
            if watched.chunk_open:
                with contextlib.suppress(PlaywrightError):
                    watched.context.tracing.stop_chunk()
                watched.chunk_open = False
        with self._lock:
            kept, self._kept = self._kept, []
        for item in kept:
            item.path.unlink(missing_ok=True)

    def keep_failure(self) -> None:
        """The test failed: attach the screenshots and traces of every open context and of those that closed."""
        for watched in self._contexts():
            for item in self._capture(watched):
                self._attach(item)
        with self._lock:
            kept, self._kept = self._kept, []
        for item in kept:
            self._attach(item)

    def keep_before_close(self, context: BrowserContext) -> None:
        """``context`` is closing on an exception: keep its evidence until the test's outcome is known."""
        with self._lock:
            watched = self._watched.get(id(context))
        if watched is None:
            return
        captured = self._capture(watched)
        with self._lock:
            self._kept.extend(captured)

    def _contexts(self) -> list[_Watched]:
        with self._lock:
            return list(self._watched.values())

    def _capture(self, watched: _Watched) -> list[_Kept]:
        kept: list[_Kept] = []
        for page in list(watched.context.pages):
            if page.is_closed():
                continue
            path = self._spool_path("png")
            try:
                page.screenshot(path=str(path), full_page=True, timeout=SCREENSHOT_TIMEOUT_MS)
            except PlaywrightError:
                continue  # a page that cannot be drawn any more leaves no screenshot
            name = step_title(f"screenshot: {watched.label}: {_where(page.url)}")
            kept.append(_Kept(name, path, AttachmentKind.SCREENSHOT, "image/png", "png"))
            source = self._page_source(page)
            if source is not None:
                name = step_title(f"page source: {watched.label}: {_where(page.url)}")
                kept.append(_Kept(name, source, AttachmentKind.PAGE_SOURCE, "text/html", "html"))
        if watched.chunk_open:
            path = self._spool_path("zip")
            try:
                watched.context.tracing.stop_chunk(path=str(path))
            except PlaywrightError:
                pass
            else:
                kept.append(_Kept(step_title(f"Playwright trace: {watched.label}"), path, AttachmentKind.TRACE,
                                  TRACE_MEDIA_TYPE, "zip"))
            watched.chunk_open = False
        return kept

    def _page_source(self, page: Page) -> Path | None:
        """The page's HTML as it stands (the DOM the test last saw, scripts' changes included), spooled."""
        try:
            html = page.content()
        except PlaywrightError:
            return None  # a page navigating away or closing leaves its screenshot only
        path = self._spool_path("html")
        path.write_text(html, encoding="utf-8")
        return path

    def _attach(self, item: _Kept) -> None:
        try:
            evidence.attach(item.name, item.path, item.kind, media_type=item.media_type, extension=item.extension)
        finally:
            item.path.unlink(missing_ok=True)

    def _spool_path(self, extension: str) -> Path:
        with self._lock:
            self._serial += 1
            return self._spool / f"{self._serial}.{extension}"


def _where(url: str) -> str:
    """A page's URL without its query (a sign-in page's query may carry a code)."""
    return url.split("?", 1)[0].split("#", 1)[0] or "blank page"


_DEFAULT = BrowserEvidence()


def browser_evidence() -> BrowserEvidence:
    """This process's watcher (the plugin drives it around each test)."""
    return _DEFAULT


@contextlib.contextmanager
def watched_context(browser: Browser, label: str, **options: Any) -> Iterator[BrowserContext]:
    """A new browser context, traced for failure evidence and closed on exit (its evidence kept on an error)."""
    context = browser.new_context(**options)
    _DEFAULT.watch(context, label)
    try:
        yield context
    except GeneratorExit:
        raise  # a fixture's generator collected: not a failure
    except BaseException:
        _DEFAULT.keep_before_close(context)
        raise
    finally:
        _DEFAULT.forget(context)
        context.close()
