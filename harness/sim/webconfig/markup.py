"""HTML building blocks of Web Config pages, shaped like Epson's advanced pages; every value is escaped here.

Structure follows the real pages (FIDELITY.md): ``body.contents > div.wrap > div.header-main`` for the title,
``dl.values > dt.key > span.key`` / ``dd.value > div.preserve-white-space`` for read-only values,
``div.warning`` for results and ``div.footer ul.buttons button.button`` for buttons. Form fields carry a
``<label for=...>`` with the visible label so they can be found by label.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

DOCTYPE = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN "\n'
           '"http://www.w3.org/TR/html4/strict.dtd">')


def esc(value: object) -> str:
    """HTML-escape ``value`` (attribute-safe)."""
    return html.escape(str(value), quote=True)


def document(title: str, body: str, *, lang: str = "en", head: str = "", body_class: str = "contents") -> str:
    """A whole page: Epson's head (``meta Author SEIKO EPSON``), the shared style sheet, then ``body``."""
    return (
        f'{DOCTYPE}\n<html lang="{esc(lang)}">\n<head>\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '<meta name="Author" content="SEIKO EPSON">\n'
        '<meta name="viewport" content="width=device-width, user-scalable=no, initial-scale=1.0">\n'
        '<meta name="format-detection" content="telephone=no">\n'
        '<meta http-equiv="X-UA-Compatible" content="IE=edge">\n'
        f"<title>{esc(title)}</title>"
        "<link rel='stylesheet' type='text/css' href='/PRESENTATION/ADVANCED/COMMON/STYLE.CSS'>"
        f"{head}</head>"
        f'<body class="{esc(body_class)}"><div class="wrap">{body}</div></body></html>'
    )


def header(title: str) -> str:
    return f'<div class="header-main">{esc(title)}</div>'


def warning(messages: Sequence[str], *, element_id: str = "") -> str:
    """The result box (``Setup complete.`` or the reasons a value was refused); empty when no messages."""
    if not messages:
        return ""
    ident = f' id="{esc(element_id)}"' if element_id else ""
    lines = "".join(f"<p>{esc(m)}</p>" for m in messages)
    return f'<div class="warning"{ident}>{lines}</div>'


def values(rows: Iterable[tuple[str, str]], *, raw: bool = False) -> str:
    """A read-only ``dl.values`` list; ``raw`` means the values are already HTML."""
    items = "".join(
        f'<dt class="key"><span class="key">{esc(key)}&nbsp;:</span></dt>'
        f'<dd class="value clearfix"><div class="preserve-white-space">{value if raw else esc(value)}</div></dd>'
        for key, value in rows
    )
    return f'<dl class="values">{items}</dl>'


def tabbed_pane(element_id: str, content: str, *, heading: str = "") -> str:
    title = f'<div class="pane-title">{esc(heading)}</div>' if heading else ""
    return f'<div class="tabbed-pane clearfix" id="{esc(element_id)}">{title}{content}</div>'


def buttons(*items: str) -> str:
    """The page footer with its buttons (each item is a ``button`` element's HTML)."""
    lis = "".join(f'<li class="button">{item}</li>' for item in items)
    return f'<div class="footer"><ul class="buttons">{lis}</ul></div>'


def button(label: str, *, element_id: str, kind: str = "submit", onclick: str = "", name: str = "",
           value: str = "", form: str = "") -> str:
    attrs = [f'type="{esc(kind)}"', 'class="button"', f'id="{esc(element_id)}"']
    if name:
        attrs.append(f'name="{esc(name)}" value="{esc(value)}"')
    if onclick:
        attrs.append(f'onclick="{esc(onclick)}"')
    if form:
        attrs.append(f'form="{esc(form)}"')
    return f"<button {' '.join(attrs)}>{esc(label)}</button>"


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def form(action: str, content: str, *, element_id: str, method: str = "post", multipart: bool = False) -> str:
    enctype = ' enctype="multipart/form-data"' if multipart else ""
    return (f'<form method="{esc(method)}" action="{esc(action)}" id="{esc(element_id)}" '
            f'name="{esc(element_id)}"{enctype}>{content}</form>')


def fields(*rows: str) -> str:
    """Form rows (from :func:`text_field` and friends) in one ``dl.values.settings`` list."""
    return f'<dl class="values settings">{"".join(rows)}</dl>'


def _row(label_html: str, control: str, *, row_class: str = "", hidden_row: bool = False, note: str = "") -> str:
    cls = f"key {row_class}".strip()
    style = ' style="display:none"' if hidden_row else ""
    note_html = f'<div class="note">{esc(note)}</div>' if note else ""
    return (f'<dt class="{esc(cls)}"{style}>{label_html}</dt>'
            f'<dd class="value clearfix {esc(row_class)}"{style}>{control}{note_html}</dd>')


def text_field(name: str, label: str, value: str, *, maxlength: int, kind: str = "text", readonly: bool = False,
               row_class: str = "", hidden_row: bool = False, note: str = "") -> str:
    """A labelled text (or password) input named ``name`` with element id ``name``."""
    ro = " readonly" if readonly else ""
    control = (f'<input type="{esc(kind)}" class="text" id="{esc(name)}" name="{esc(name)}" '
               f'maxlength="{maxlength}" value="{esc(value)}" autocomplete="off"{ro}>')
    return _row(f'<label for="{esc(name)}">{esc(label)}</label>', control, row_class=row_class,
                hidden_row=hidden_row, note=note)


def select_field(name: str, label: str, options: Sequence[tuple[str, str]], selected: str, *,
                 row_class: str = "", hidden_row: bool = False, onchange: str = "", note: str = "") -> str:
    """A labelled drop-down; ``options`` are (value, visible text)."""
    opts = "".join(f'<option value="{esc(v)}"{" selected" if v == selected else ""}>{esc(text)}</option>'
                   for v, text in options)
    change = f' onchange="{esc(onchange)}"' if onchange else ""
    control = f'<select class="list" id="{esc(name)}" name="{esc(name)}"{change}>{opts}</select>'
    return _row(f'<label for="{esc(name)}">{esc(label)}</label>', control, row_class=row_class,
                hidden_row=hidden_row, note=note)


def radio_field(name: str, legend: str, options: Sequence[tuple[str, str]], selected: str, *,
                row_class: str = "", hidden_row: bool = False, note: str = "") -> str:
    """A labelled radio group; each input has id ``NAME-VALUE`` (Epson's convention) and its own label."""
    group = "".join(
        f'<span class="radio"><input type="radio" id="{esc(name)}-{esc(v)}" name="{esc(name)}" value="{esc(v)}"'
        f'{" checked" if v == selected else ""}><label for="{esc(name)}-{esc(v)}">{esc(text)}</label></span>'
        for v, text in options
    )
    control = f'<div class="radio-group" role="radiogroup" aria-label="{esc(legend)}">{group}</div>'
    return _row(f'<span class="key">{esc(legend)}</span>', control, row_class=row_class, hidden_row=hidden_row,
                note=note)


def display_field(label: str, value_html: str, *, row_class: str = "", hidden_row: bool = False) -> str:
    """A read-only row inside a form (``value_html`` is already HTML)."""
    return _row(f'<span class="key">{esc(label)}</span>', value_html, row_class=row_class, hidden_row=hidden_row)


def table(element_id: str, columns: Sequence[str], rows: Iterable[Sequence[str]], *, raw_columns: int = 0) -> str:
    """A list table; the last ``raw_columns`` cells of each row are HTML (e.g. a delete button)."""
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cut = len(row) - raw_columns
        cells = [f"<td>{esc(c)}</td>" for c in row[:cut]] + [f"<td>{c}</td>" for c in row[cut:]]
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table class="list" id="{esc(element_id)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def script(code: str) -> str:
    return f'<script type="text/javascript">{code}</script>'
