"""Large block letters, for a device code someone reads from across a desk."""

from __future__ import annotations

from textual.widgets import Static

# 5 rows per glyph, 4 columns wide; "#" is a filled cell.
_FONT = {
    "0": (" ## ", "#  #", "#  #", "#  #", " ## "), "1": (" #  ", "##  ", " #  ", " #  ", "### "),
    "2": ("### ", "   #", " ## ", "#   ", "####"), "3": ("### ", "   #", " ## ", "   #", "### "),
    "4": ("#  #", "#  #", "####", "   #", "   #"), "5": ("####", "#   ", "### ", "   #", "### "),
    "6": (" ## ", "#   ", "### ", "#  #", " ## "), "7": ("####", "   #", "  # ", " #  ", " #  "),
    "8": (" ## ", "#  #", " ## ", "#  #", " ## "), "9": (" ## ", "#  #", " ###", "   #", " ## "),
    "A": (" ## ", "#  #", "####", "#  #", "#  #"), "B": ("### ", "#  #", "### ", "#  #", "### "),
    "C": (" ###", "#   ", "#   ", "#   ", " ###"), "D": ("### ", "#  #", "#  #", "#  #", "### "),
    "E": ("####", "#   ", "### ", "#   ", "####"), "F": ("####", "#   ", "### ", "#   ", "#   "),
    "G": (" ###", "#   ", "# ##", "#  #", " ###"), "H": ("#  #", "#  #", "####", "#  #", "#  #"),
    "I": ("### ", " #  ", " #  ", " #  ", "### "), "J": ("  ##", "   #", "   #", "#  #", " ## "),
    "K": ("#  #", "# # ", "##  ", "# # ", "#  #"), "L": ("#   ", "#   ", "#   ", "#   ", "####"),
    "M": ("#  #", "####", "####", "#  #", "#  #"), "N": ("#  #", "## #", "# ##", "#  #", "#  #"),
    "O": (" ## ", "#  #", "#  #", "#  #", " ## "), "P": ("### ", "#  #", "### ", "#   ", "#   "),
    "Q": (" ## ", "#  #", "#  #", "# ##", " ###"), "R": ("### ", "#  #", "### ", "# # ", "#  #"),
    "S": (" ###", "#   ", " ## ", "   #", "### "), "T": ("####", " #  ", " #  ", " #  ", " #  "),
    "U": ("#  #", "#  #", "#  #", "#  #", " ## "), "V": ("#  #", "#  #", "#  #", " ## ", " ## "),
    "W": ("#  #", "#  #", "####", "####", "#  #"), "X": ("#  #", "#  #", " ## ", "#  #", "#  #"),
    "Y": ("#  #", "#  #", " ## ", " #  ", " #  "), "Z": ("####", "   #", " ## ", "#   ", "####"),
    "-": ("    ", "    ", "####", "    ", "    "), " ": ("    ",) * 5,
}
_UNKNOWN = ("####", "#  #", "#  #", "#  #", "####")


def big_lines(text: str) -> list[str]:
    """``text`` in block letters: five lines, each glyph two cells per font column."""
    glyphs = [_FONT.get(ch, _UNKNOWN) for ch in text.upper()]
    rows = []
    for r in range(5):
        row = "  ".join(g[r].replace("#", "██").replace(" ", "  ") for g in glyphs)
        rows.append(row.rstrip())
    return rows


class BigText(Static):
    """A Static that draws its text in block letters (the plain text stays in ``.text``)."""

    DEFAULT_CSS = "BigText { width: auto; height: 5; }"

    def __init__(self, text: str = "", **kwargs: object) -> None:
        self.text = text
        super().__init__("\n".join(big_lines(text)), **kwargs)  # type: ignore[arg-type]

    def show(self, text: str) -> None:
        self.text = text
        self.update("\n".join(big_lines(text)))
