"""User strings made harmless for every output: terminals, CSV, Markdown, HTML, JSON.

Model names, file names and error messages come from spec files and user models. In
a terminal an escape sequence would be executed, in a table a carriage return or a
newline breaks the row, a bidirectional override reorders what is shown, and in a
spreadsheet a cell starting with ``=``, ``+``, ``-`` or ``@`` is a formula (OWASP's
CSV injection). Each renderer passes user text through one of these functions.

Example:
    >>> printable("evil\\x1b[2Jname\\r")
    'evil\\\\x1b[2Jname\\\\r'
    >>> csv_cell("=HYPERLINK(1)")
    "'=HYPERLINK(1)"
"""

from __future__ import annotations

import re

__all__ = ["UNSAFE", "csv_cell", "json_text", "printable"]

#: C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional
#: embeddings, overrides and isolates (the "Trojan Source" characters).
UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: What ``json.dumps`` leaves raw inside strings (it escapes C0 controls itself).
_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: OWASP: a cell starting with one of these is read as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep: str = "") -> str:
    """``text`` with every control, separator and bidi character written as a visible
    escape (``\\x1b``, ``\\r``, ``\\u202e``), except those in ``keep`` (e.g. ``"\\n"``
    for a rendered multi-line text).

    Example:
        >>> printable("a\\nb", keep="\\n") == "a\\nb", printable("a\\nb")
        (True, 'a\\\\nb')
    """
    if not UNSAFE.search(text):  # almost every string: nothing to do
        return text
    if not keep:
        return UNSAFE.sub(_escape, text)
    return UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def csv_cell(text: str) -> str:
    """A string cell for CSV: controls escaped, and a leading formula character
    neutralised with a quote (OWASP), so a spreadsheet shows it as text.

    Example:
        >>> csv_cell("@SUM(A1)"), csv_cell("conv"), csv_cell("a\\rb")
        ("'@SUM(A1)", 'conv', 'a\\\\rb')
    """
    if text.startswith(FORMULA_START):
        text = "'" + text
    return printable(text)


def json_text(document: str) -> str:
    """Dumped JSON with the characters JSON leaves raw (C1 controls, separators, bidi)
    written as ``\\uXXXX`` escapes: the same data, safe to print or open in an editor.

    Example:
        >>> json_text('{"name": "a\\u202eb"}')
        '{"name": "a\\\\u202eb"}'
    """
    if not _JSON_RAW.search(document):
        return document
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
