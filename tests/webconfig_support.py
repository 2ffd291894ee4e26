"""Helpers for the Web Config tests: a served virtual device, an HTTP client that logs in, a small page reader."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import requests
from sim_engine_support import tier_resolver

from harness.asgi import ThreadedAsgiServer
from harness.clock import Clock
from harness.msft.tier import MicrosoftTier
from harness.sim.device import DeviceIdentity, VirtualDevice
from harness.sim.engine import DeviceEngine
from harness.sim.models import get_model
from harness.sim.webconfig import create_webconfig_app

ADVANCED = "/PRESENTATION/ADVANCED"
#: Elements whose boundaries separate words in the text a test reads.
_BLOCKS = {"p", "li", "ul", "div", "dt", "dd", "tr", "td", "th", "br", "button"}


@dataclass
class Page:
    """What a test reads from one Web Config answer (parsed with the standard library's HTML parser)."""

    status: int
    html: str
    warnings: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    selects: dict[str, str] = field(default_factory=dict)
    radios: dict[str, str] = field(default_factory=dict)
    by_id: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  # first occurrence of each key
    panes: dict[str, dict[str, str]] = field(default_factory=dict)  # div.tabbed-pane id -> its values
    title: str = ""
    tables: dict[str, list[list[str]]] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return self.inputs.get("INPUTT_SETUPTOKEN", "")

    @property
    def login_form(self) -> bool:
        return "INPUTT_PASSWORD" in self.inputs and "OnSetButton" in self.html


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.captures: list[tuple[str, str, list[str]]] = []  # (kind, key, text parts)
        self.select: str | None = None
        self.key: str | None = None
        self.table: str | None = None
        self.row: list[str] | None = None
        self.pane: str | None = None
        self.warning_parts: list[int] = []  # per open div.warning: how many <p> messages it has stored

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag in _BLOCKS:
            self.handle_data(" ")
        if tag == "input":
            name, kind = a.get("name", ""), a.get("type", "text")
            if kind == "radio":
                if "checked" in a:
                    self.page.radios[name] = a.get("value", "")
            elif kind != "file":
                self.page.inputs[name] = a.get("value", "")
            return
        if tag == "select":
            self.select = a.get("name")
        if tag == "option" and self.select and "selected" in a:
            self.page.selects[self.select] = a.get("value", "")
        if tag == "table":
            self.table = a.get("id", "")
            self.page.tables[self.table] = []
        if tag == "tr" and self.table is not None:
            self.row = []
        if tag in ("td", "th") and self.row is not None:
            self.captures.append(("cell", "", []))
        if tag == "div" and "tabbed-pane" in classes:
            self.pane = a.get("id", "")
        if tag == "div" and "warning" in classes:
            self.captures.append(("warning", "", []))
            self.warning_parts.append(0)
        if tag == "p" and self.warning_parts:
            self.captures.append(("message", "", []))
        if tag == "div" and "header-main" in classes:
            self.captures.append(("title", "", []))
        if tag == "span" and "key" in classes:
            self.captures.append(("key", "", []))
        if tag == "div" and "preserve-white-space" in classes:
            self.captures.append(("value", self.key or "", []))
        if a.get("id"):
            self.captures.append(("id", a["id"], []))
        self.stack.append((tag, a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        if tag == "tr" and self.row is not None and self.table is not None:
            self.page.tables[self.table].append(self.row)
            self.row = None
        if tag == "table":
            self.table = None
        while self.stack:
            open_tag, attrs = self.stack.pop()
            self._close(open_tag, attrs)
            if open_tag == tag:
                break

    def _close(self, tag: str, attrs: dict[str, str]) -> None:
        classes = attrs.get("class", "").split()
        ends = []
        if tag == "div" and "tabbed-pane" in classes:
            self.pane = None
        if attrs.get("id"):
            ends.append("id")
        if tag == "div" and "preserve-white-space" in classes:
            ends.append("value")
        if tag == "span" and "key" in classes:
            ends.append("key")
        if tag == "div" and "header-main" in classes:
            ends.append("title")
        if tag == "div" and "warning" in classes:
            ends.append("warning")
        if tag == "p" and self.warning_parts:
            ends.append("message")
        if tag in ("td", "th") and self.row is not None:
            ends.append("cell")
        for kind in ends:
            for i in range(len(self.captures) - 1, -1, -1):
                if self.captures[i][0] == kind:
                    _, key, parts = self.captures.pop(i)
                    self._store(kind, key, " ".join("".join(parts).split()))
                    break

    def _store(self, kind: str, key: str, text: str) -> None:
        if kind == "message":
            self.page.warnings.append(text)
            self.warning_parts[-1] += 1
        elif kind == "warning":
            if not self.warning_parts.pop():
                self.page.warnings.append(text)
        elif kind == "title":
            self.page.title = text
        elif kind == "key":
            self.key = text.replace("\xa0", " ").rstrip(": ").strip()
        elif kind == "value":
            self.page.values.setdefault(key, text)
            if self.pane is not None:
                self.page.panes.setdefault(self.pane, {})[key] = text
        elif kind == "id":
            self.page.by_id[key] = text
        elif kind == "cell" and self.row is not None:
            self.row.append(text)

    def handle_data(self, data: str) -> None:
        for _, _, parts in self.captures:
            parts.append(data)


def read_page(response: requests.Response) -> Page:
    page = Page(response.status_code, response.text)
    _Reader(page).feed(response.text)
    return page


class WebConfigClient:
    """A browser-less administrator: GET pages, POST forms, with the session cookie kept."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.http.trust_env = False

    def url(self, page: str, leaf: str = "TOP") -> str:
        return f"{self.base}{ADVANCED}/{page}/{leaf}"

    def open(self, page: str, leaf: str = "TOP", **params: str) -> Page:
        return read_page(self.http.get(self.url(page, leaf), params=params, timeout=30))

    def post(self, page: str, data: dict[str, str], leaf: str = "SET",
             files: dict[str, tuple[str, bytes]] | None = None) -> Page:
        return read_page(self.http.post(self.url(page, leaf), data=data, files=files, timeout=60))

    def login(self, password: str, **extra: str) -> Page:
        fields = {"SEL_SESSIONTYPE": "ADMIN", "INPUTT_USERNAME": "", "INPUTT_PASSWORD": password,
                  "access": "https", **extra}
        return read_page(self.http.post(f"{self.base}{ADVANCED}/PASSWORD/SET", data=fields, timeout=30))

    def submit(self, page: str, fields: dict[str, str], leaf: str = "SET",
               files: dict[str, tuple[str, bytes]] | None = None) -> Page:
        """Open ``page``, then send its form with ``fields`` and the page's current setup token."""
        token = self.open(page).token
        assert token, f"{page} shows no setup token"
        return self.post(page, {"INPUTT_SETUPTOKEN": token, **fields}, leaf, files)


@dataclass
class ServedDevice:
    device: VirtualDevice
    engine: DeviceEngine
    url: str

    def client(self) -> WebConfigClient:
        return WebConfigClient(self.url)

    def admin(self) -> WebConfigClient:
        client = self.client()
        page = client.login(self.device.config.admin_password)
        assert not page.login_form, page.warnings
        return client


def make_device(tier: MicrosoftTier, model: str, *, clock: Clock | None = None, defects: frozenset[str] = frozenset(),
                name: str = "") -> VirtualDevice:
    """A device of a catalogue model, resolving Microsoft's names to ``tier``, on the lab clock by default."""
    spec = get_model(model)
    identity = DeviceIdentity(name=name or model.lower(), model=spec.model, serial=spec.default_serial,
                              mac=spec.default_mac, firmware=spec.firmware,
                              capabilities=frozenset(str(c) for c in spec.capabilities), client_id=tier.client_id)
    return VirtualDevice(identity, clock or tier.state.clock, tier_resolver(tier), defects=defects)


@contextmanager
def served(device: VirtualDevice) -> Iterator[ServedDevice]:
    """``device``'s Web Config on an ephemeral loopback port, with the real engine behind it."""
    engine = DeviceEngine(device)
    try:
        with ThreadedAsgiServer(create_webconfig_app(device, engine)) as server:
            yield ServedDevice(device, engine, server.url)
    finally:
        engine.close()


def pem_of(text: str) -> bytes:
    """The first PEM certificate in ``text``."""
    match = re.search(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", text, re.S)
    assert match, "no certificate"
    return match.group(0).encode()
