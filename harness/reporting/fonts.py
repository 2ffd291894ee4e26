"""Unicode fonts for the PDF reports, and Paragraph markup that escapes text and switches to a CJK font per run.

DejaVu Sans (Debian ``fonts-dejavu-core``) covers Latin, Greek, Cyrillic and typography (É, —, “”) but no
Japanese; IPAGothic (``fonts-ipafont-gothic``, TrueType outlines, which reportlab embeds) covers Japanese. Noto
Sans CJK is CFF-flavoured OpenType, which reportlab cannot embed. Without IPAGothic, reportlab's built-in
HeiseiKakuGo-W5 CID font is used: text stays extractable, but the viewer must supply its glyphs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/share/fonts/TTF"), Path("/usr/local/share/fonts"))
CJK_FILES = (Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
             Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf"),
             Path("/usr/share/fonts/truetype/ipafont/ipag.ttf"))
CJK_FALLBACK = "HeiseiKakuGo-W5"

SANS = "DejaVuSans"
SANS_BOLD = "DejaVuSans-Bold"
MONO = "DejaVuSansMono"
CJK = "IPAGothic"
_FACES = {SANS: "DejaVuSans.ttf", SANS_BOLD: "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
          "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf", MONO: "DejaVuSansMono.ttf"}


class FontsMissing(RuntimeError):
    """The report's fonts are not installed."""


@dataclass(frozen=True)
class Fonts:
    """The registered font names: ``sans`` (with bold/italic mapped), ``bold``, ``mono`` and ``cjk``."""

    sans: str
    bold: str
    mono: str
    cjk: str
    covered: frozenset[int]  # the code points the sans font has glyphs for

    def markup(self, text: str) -> str:
        """``text`` escaped for a Paragraph, with runs the sans font lacks set in the CJK font, lines kept."""
        out: list[str] = []
        run: list[str] = []
        in_cjk = False
        for char in _visible_controls(text):
            needs_cjk = ord(char) not in self.covered and not char.isspace()
            if needs_cjk != in_cjk and run:
                out.append(self._run("".join(run), in_cjk))
                run = []
            in_cjk = needs_cjk
            run.append(char)
        if run:
            out.append(self._run("".join(run), in_cjk))
        return "".join(out).replace("\n", "<br/>")

    def _run(self, text: str, cjk: bool) -> str:
        return f'<font name="{self.cjk}">{escape(text)}</font>' if cjk else escape(text)


def _visible_controls(text: str) -> str:
    """Control characters (an ANSI colour, a NUL) as ``\\x1b``: Paragraph would drop or break on them."""
    return "".join(f"\\x{ord(c):02x}" if (ord(c) < 0x20 and c not in "\n\t") or ord(c) == 0x7F else c for c in text)


@cache
def report_fonts() -> Fonts:
    """Register the fonts once; :class:`FontsMissing` names the Debian packages when DejaVu is absent."""
    folder = next((d for d in FONT_DIRS if (d / _FACES[SANS]).is_file()), None)
    if folder is None:
        raise FontsMissing("the PDF report needs DejaVu Sans: install the Debian package fonts-dejavu-core "
                           "(make setup does)")
    for name, file in _FACES.items():
        path = folder / file
        pdfmetrics.registerFont(TTFont(name, path if path.is_file() else folder / _FACES[SANS]))
    for bold, italic, face in ((0, 0, SANS), (1, 0, SANS_BOLD), (0, 1, "DejaVuSans-Oblique"),
                               (1, 1, "DejaVuSans-BoldOblique")):
        addMapping(SANS, bold, italic, face)
    sans = pdfmetrics.getFont(SANS)
    covered = frozenset(sans.face.charToGlyph)
    return Fonts(SANS, SANS_BOLD, MONO, _register_cjk(), covered)


def _register_cjk() -> str:
    path = next((p for p in CJK_FILES if p.is_file()), None)
    if path is not None:
        pdfmetrics.registerFont(TTFont(CJK, path))
        return CJK
    log.warning("IPAGothic not found (Debian fonts-ipafont-gothic); Japanese text uses the viewer's %s",
                CJK_FALLBACK)
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FALLBACK))
    return CJK_FALLBACK
