"""A small element tree of an HTML page (standard library parser), with the few look-ups the readers need.

Device pages are old-style HTML: void elements, the odd unclosed ``<li>``/``<td>``, ``document.write`` in
scripts. The builder keeps to what a browser would do for those cases and ignores end tags it cannot match,
so one stray tag never loses the rest of the page. Script and style text never counts as page text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
                  "track", "wbr"})
#: A start tag of the key's kind closes the open elements of the kinds in the value (and all inside them), looking
#: no further out than the nearest "stop" container: a new ``<dt>`` ends the open ``<dd>``, a new ``<tr>`` the open
#: ``<td>`` and its ``<tr>``, but a ``<li>`` of a nested list leaves the outer list's item open.
_IMPLIED_END: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "li": (frozenset({"li"}), frozenset({"ul", "ol"})),
    "dt": (frozenset({"dt", "dd"}), frozenset({"dl"})),
    "dd": (frozenset({"dt", "dd"}), frozenset({"dl"})),
    "tr": (frozenset({"tr", "td", "th"}), frozenset({"table", "tbody", "thead", "tfoot"})),
    "td": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "th": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "option": (frozenset({"option"}), frozenset({"select"})),
}
_NO_TEXT = frozenset({"script", "style", "noscript", "template"})
#: Elements whose edges separate words (text of ``<td>a</td><td>b</td>`` is ``a b``, not ``ab``).
_BLOCK = frozenset({"address", "article", "br", "dd", "div", "dl", "dt", "fieldset", "form", "h1", "h2", "h3",
                    "h4", "h5", "h6", "legend", "li", "ol", "option", "p", "section", "table", "td", "th", "tr",
                    "ul", "button", "select"})


@dataclass
class Element:
    """One element: tag, attributes, and its children (elements and text strings) in document order."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    @property
    def id(self) -> str:
        return self.attrs.get("id", "")

    def elements(self) -> Iterator[Element]:
        """Every descendant element, depth first in document order (not this element itself)."""
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.elements()

    def find_all(self, tag: str | None = None, *, cls: str | None = None, id: str | None = None,
                 **attrs: str) -> list[Element]:
        """Descendants matching the tag, a class, an id and exact attribute values (all optional)."""
        return [e for e in self.elements()
                if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
                and (id is None or e.id == id) and all(e.attrs.get(k) == v for k, v in attrs.items())]

    def find(self, tag: str | None = None, *, cls: str | None = None, id: str | None = None,
             **attrs: str) -> Element | None:
        found = self.find_all(tag, cls=cls, id=id, **attrs)
        return found[0] if found else None

    def raw_text(self) -> str:
        """The text as written (no-break spaces kept, entities decoded), without script or style text."""
        parts: list[str] = []
        self._collect(parts)
        return "".join(parts)

    def text(self) -> str:
        """The visible text with whitespace (no-break spaces too) collapsed to single spaces."""
        return " ".join(self.raw_text().replace("\xa0", " ").split())

    def lines(self) -> list[str]:
        """The text split at line breaks and block edges, each line collapsed; empty lines dropped."""
        parts: list[str] = []
        self._collect(parts, breaks=True)
        return [" ".join(line.replace("\xa0", " ").split()) for line in "".join(parts).splitlines()
                if line.replace("\xa0", " ").strip()]

    def _collect(self, parts: list[str], breaks: bool = False) -> None:
        if self.tag in _NO_TEXT:
            return
        edge = "\n" if breaks else " "
        if self.tag in _BLOCK:
            parts.append(edge)
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            else:
                child._collect(parts, breaks)
        if self.tag in _BLOCK:
            parts.append(edge)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document")
        self.stack: list[Element] = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._imply_end(tag)
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._imply_end(tag)
        self.stack[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return
        # an end tag with no open element of its kind: ignored, as browsers do

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def _imply_end(self, tag: str) -> None:
        rule = _IMPLIED_END.get(tag)
        if rule is None:
            return
        closes, stops = rule
        outermost = None
        for depth in range(len(self.stack) - 1, 0, -1):
            open_tag = self.stack[depth].tag
            if open_tag in stops:
                break
            if open_tag in closes:
                outermost = depth
        if outermost is not None:
            del self.stack[outermost:]


def parse_html(html: str) -> Element:
    """The page as an element tree under a ``#document`` root."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
