"""Reading a page's fields in one round trip, and waiting for a status without Playwright's back-off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harness.device.webconfig.base import MARKUP_JS
from harness.device.webconfig.profile import LocatorSpec
from harness.device.webconfig.reading import PageReading, read_fields, wait_until_shown

pytestmark = pytest.mark.browser

FORM = """<html><body><form>
<select name="AUTH"><option value="OFF">Off</option><option value="OAUTH2" selected>OAuth2</option></select>
<input name="SENDER" value="printer@example.com">
<input type="radio" name="CERT" value="ENABLE"><input type="radio" name="CERT" value="DISABLE" checked>
<span id="STATUS">Signed out</span><div id="HIDDEN" style="display:none">later</div>
<div class="warning">First line<br>Second line</div>
<a id="LINK" href="https://microsoft.com/devicelogin">the page</a>
<button type="button">Sign Out</button>
<ul class="buttons"><li><button type="submit" class="button"> OK </button></li>
<li><input type="submit" value="Apply"></li><li><input type="reset"></li>
<li><span role="button" aria-label="Refresh">&#x21bb;</span></li><li><button role="tab">Start</button></li>
<li><button aria-hidden="true">Back</button></li><li style="display:none"><button>Delete</button></li>
<li><button style="visibility:hidden">Hidden Delete</button></li><li><button>Ok</button></li>
<li><button aria-labelledby="LBL">x</button><span id="LBL">Sign In</span></li>
<li><input type="button" title="Help"></li><li><input type="image" alt="Go" src="data:,"></li>
</ul></form></body></html>"""

SPECS = {"auth": LocatorSpec(name="AUTH"), "sender": LocatorSpec(name="SENDER"), "cert": LocatorSpec(name="CERT"),
         "status": LocatorSpec(css="#STATUS"), "hidden": LocatorSpec(css="#HIDDEN", optional=True),
         "result": LocatorSpec(css="div.warning", optional=True), "link": LocatorSpec(css="#LINK"),
         "missing": LocatorSpec(css="#NOT_THERE", optional=True),
         "sign_out": LocatorSpec(role="button", text="Sign Out")}
#: Buttons by role and exact name, read in the page's world: each must match what Playwright's getByRole finds.
BUTTONS = {name: LocatorSpec(role="button", text=name, optional=True)
           for name in ("OK", "Ok", "Apply", "Reset", "Submit", "Refresh", "Start", "Back", "Delete", "Hidden Delete",
                        "Sign In", "x", "Sign", "Help", "Go")}


@pytest.fixture
def page(tier_browser: Browser) -> Iterator[Page]:
    context = tier_browser.new_context()
    page = context.new_page()
    page.set_content(FORM)
    yield page
    context.close()


def reading(page: Page, said: list[tuple[str, ...]] | None = None) -> PageReading:
    return PageReading(read_fields(page, SPECS), SPECS, lambda name: SPECS[name].resolve(page),
                       lambda lines: said.append(lines) if said is not None else None)


def test_one_reading_answers_as_playwright_does(page: Page) -> None:
    said: list[tuple[str, ...]] = []
    got = reading(page, said)
    assert got.selected("auth") == "OAuth2" and got.value("sender") == "printer@example.com"
    assert got.checked_value("cert") == "DISABLE"
    assert got.shown("status") and got.text("status") == "Signed out"
    assert not got.shown("hidden") and got.count("hidden") == 1 and got.text("hidden") == "later"
    assert got.lines("result") == ("First line", "Second line") and said == [("First line", "Second line")]
    assert got.href("link") == "https://microsoft.com/devicelogin"
    assert got.count("missing") == 0 and not got.shown("missing") and got.text("missing") == "" \
        and got.html("missing") == ""
    for name, spec in SPECS.items():  # the same answers Playwright's locators give
        locator = spec.resolve(page)
        assert got.count(name) == locator.count(), name
        assert got.shown(name) == locator.first.is_visible(), name
    with pytest.raises(KeyError, match="was not read"):
        got.text("not-asked-for")


def test_buttons_by_role_and_name_are_found_as_playwright_finds_them(page: Page) -> None:
    got = PageReading(read_fields(page, BUTTONS), BUTTONS, lambda name: pytest.fail(f"{name} was not read at once"),
                      lambda lines: None)
    for name, spec in BUTTONS.items():
        locator = spec.resolve(page)
        assert got.count(name) == locator.count(), name
        assert got.shown(name) == locator.first.is_visible(), name
        assert got.texts(name) == tuple(locator.all_inner_texts()), name


def test_other_roles_and_labels_are_read_through_playwright(page: Page) -> None:
    specs = {"form": LocatorSpec(role="form", optional=True), "sender": LocatorSpec(label="Sender", optional=True)}
    assert read_fields(page, specs) == {}
    got = PageReading({}, specs, lambda name: specs[name].resolve(page), lambda lines: None)
    assert got.count("sender") == 0


def test_waiting_ends_when_the_page_shows_the_text(page: Page) -> None:
    page.evaluate("setTimeout(() => { document.getElementById('STATUS').textContent = 'Signed in'; }, 300)")
    assert wait_until_shown(page, [(SPECS["status"], "Signed in"), (SPECS["missing"], None)], 5_000)
    assert page.inner_text("#STATUS") == "Signed in"


def test_waiting_for_a_hidden_element_times_out(page: Page) -> None:
    with pytest.raises(PlaywrightTimeout):
        wait_until_shown(page, [(SPECS["hidden"], None)], 300)


def test_waiting_for_a_button_is_done_in_the_page(page: Page) -> None:
    assert wait_until_shown(page, [(SPECS["sign_out"], None)], 300)
    with pytest.raises(PlaywrightTimeout):
        wait_until_shown(page, [(BUTTONS["Back"], None)], 300)  # hidden from assistive technology


def test_waiting_on_a_label_is_left_to_playwright(page: Page) -> None:
    assert not wait_until_shown(page, [(LocatorSpec(label="Sender"), None)], 300)


@pytest.mark.parametrize("doctype", ["<!DOCTYPE html>", ""])
def test_the_page_markup_is_what_playwright_gives(page: Page, doctype: str) -> None:
    page.set_content(doctype + FORM)
    assert page.evaluate(MARKUP_JS) == page.content()
