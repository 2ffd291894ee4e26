"""Reading Epson Web Config information pages (Product Status, Network Status, ...) into key/value sections.

Two layouts are known from real devices. Business ("advanced") pages: ``div.header-main`` is the title and
each ``div.tabbed-pane`` holds ``dl.values`` of ``dt.key > span.key`` ("Device Name&nbsp;:") and
``dd.value > div.preserve-white-space`` pairs, one pane per tab (``li#<pane>-tab``). Consumer pages
(``PRTINFO.HTML``): an ``h2`` title, ``fieldset`` boxes with a ``legend.key`` (Printer Status), and tables of
``td.item-key`` / ``td.item-value`` rows inside ``div#info-network`` and the like. Both become
:class:`InfoSection` objects named by the id of the element that holds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.device.htmltree import Element, parse_html

__all__ = ["InfoPage", "InfoSection", "parse_info_page"]


@dataclass(frozen=True)
class InfoSection:
    """One pane of an information page: ``id`` of its element, the tab's ``label``, keys to values in order."""

    id: str
    label: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InfoPage:
    """An information page: its title, the product named in the document title, and its sections."""

    title: str
    product: str
    layout: Literal["advanced", "consumer", "unknown"]
    sections: tuple[InfoSection, ...] = ()
    #: The page shows the administrator login form in place of its content.
    login_required: bool = False
    #: Messages of the page's ``div.warning`` box, if any.
    warnings: tuple[str, ...] = ()

    @property
    def values(self) -> dict[str, str]:
        """Every key of the page with the value of its first occurrence (the first tab wins)."""
        merged: dict[str, str] = {}
        for section in self.sections:
            for key, value in section.values.items():
                merged.setdefault(key, value)
        return merged

    def section(self, section_id: str) -> InfoSection | None:
        return next((s for s in self.sections if s.id == section_id), None)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value of ``key`` (case- and space-insensitive), first occurrence."""
        wanted = _fold(key)
        return next((value for k, value in self.values.items() if _fold(k) == wanted), default)


def parse_info_page(html: str) -> InfoPage:
    """Parse one information page of either layout; a page without any pairs gives no sections."""
    root = parse_html(html)
    header = root.find(cls="header-main")
    h2 = root.find("h2")
    title_element = root.find("title")
    if header is not None:
        layout: Literal["advanced", "consumer", "unknown"] = "advanced"
        title = header.text()
    elif h2 is not None and (root.find(cls="item-key") or root.find("legend", cls="key")) is not None:
        layout, title = "consumer", h2.text()
    else:
        layout, title = "unknown", h2.text() if h2 is not None else ""
    collector = _Collector(_tab_labels(root))
    collector.walk(root, "")
    warnings = tuple(line for box in root.find_all(cls="warning") for line in box.lines())
    login = any(e.attrs.get("name") == "INPUTT_PASSWORD" for e in root.find_all("input"))
    return InfoPage(title=title, product=title_element.text() if title_element is not None else "", layout=layout,
                    sections=collector.sections(), login_required=login, warnings=warnings)


def _fold(key: str) -> str:
    return " ".join(key.replace("\xa0", " ").split()).casefold()


def _clean_key(text: str) -> str:
    """``Device Name :`` → ``Device Name``."""
    return " ".join(text.replace("\xa0", " ").split()).rstrip(":").strip()


def _value(element: Element) -> str:
    """A value as shown: lines kept (joined with a newline), each line's spacing collapsed."""
    holder = element.find(cls="preserve-white-space") or element
    return "\n".join(holder.lines())


def _tab_labels(root: Element) -> dict[str, str]:
    """Pane id → tab label, from ``li#<pane>-tab`` (advanced) or ``td#tab-item-<pane>`` (consumer) tabs."""
    labels: dict[str, str] = {}
    for element in root.elements():
        if element.id.endswith("-tab"):
            labels[element.id.removesuffix("-tab")] = element.text()
        elif element.id.startswith("tab-item-"):
            labels["info-" + element.id.removeprefix("tab-item-")] = element.text()
    return labels


class _Collector:
    """Walks the tree once, filing each key/value pair under its pane (a tabbed pane or a tab's element)."""

    def __init__(self, labels: dict[str, str]) -> None:
        self._labels = labels
        self._sections: dict[str, dict[str, str]] = {}

    def walk(self, element: Element, section: str) -> None:
        if element.tag == "div" and element.id and ("tabbed-pane" in element.classes or element.id in self._labels):
            section = element.id
        if element.tag == "dl":
            self._definition_list(element, section)
            return
        if element.tag == "tr" and "item-key" in {c for td in element.find_all("td") for c in td.classes}:
            self._item_row(element, section)
            return
        if element.tag == "fieldset" and (legend := element.find("legend")) is not None:
            body = Element("div", children=[c for c in element.children if c is not legend])
            self._add(section, _clean_key(legend.text()), "\n".join(body.lines()))
            return
        for child in element.children:
            if isinstance(child, Element):
                self.walk(child, section)

    def sections(self) -> tuple[InfoSection, ...]:
        return tuple(InfoSection(sid, self._labels.get(sid, ""), values)
                     for sid, values in self._sections.items() if values)

    def _definition_list(self, dl: Element, section: str) -> None:
        key: str | None = None
        for child in dl.children:
            if not isinstance(child, Element):
                continue
            if child.tag == "dt":
                span = child.find("span", cls="key") or child
                key = _clean_key(span.text())
            elif child.tag == "dd" and key is not None:
                self._add(section, key, _value(child))
                key = None

    def _item_row(self, row: Element, section: str) -> None:
        cells = row.find_all("td")
        key_cell = next((c for c in cells if "item-key" in c.classes), None)
        value_cell = next((c for c in cells if "item-value" in c.classes), None)
        if key_cell is not None and value_cell is not None:
            self._add(section, _clean_key(key_cell.text()), _value(value_cell))

    def _add(self, section: str, key: str, value: str) -> None:
        if key:
            self._sections.setdefault(section, {}).setdefault(key, value)
