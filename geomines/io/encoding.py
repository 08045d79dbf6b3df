"""Text encodings of attribute data: names GDAL understands, and a guess that says so.

Real exports arrive in UTF-8, in Windows-1252/Latin-1 (Western European field
offices) and in Windows-1251 (Cyrillic: Ukraine, the Caucasus, Central Asia). When
the declared encoding does not decode the bytes, geomines reads the raw bytes and
picks between these by one stated rule (:func:`guess_encoding`), and the load
report and a warning name the encoding used. ``encoding=`` / ``--encoding``
always wins.
"""

from __future__ import annotations

import codecs

from ..errors import InputError

__all__ = ["decode", "gdal_encoding", "guess_encoding", "python_encoding", "recode"]


def python_encoding(name: str) -> str:
    """The Python codec name for an encoding, or an :class:`InputError` naming it."""
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise InputError(
            f"Expected a text encoding such as 'utf-8', 'cp1251' or 'latin-1', got {name!r}."
        ) from None


def gdal_encoding(name: str) -> str:
    """The spelling of an encoding that GDAL's iconv accepts (``ISO-8859-1``, ``CP1251``)."""
    codec = python_encoding(name)
    if codec.startswith("iso8859-"):
        return "ISO-8859-" + codec.removeprefix("iso8859-")
    if codec == "latin-1":
        return "ISO-8859-1"
    if codec in ("utf-8", "utf_8"):
        return "UTF-8"
    return codec.upper()


def guess_encoding(data: bytes) -> str:
    """UTF-8, Windows-1251 or Windows-1252 for text bytes, by a stated rule.

    - Bytes that decode as UTF-8 are UTF-8.
    - Otherwise, Cyrillic words in Windows-1251 are runs of bytes ≥ 0xC0 (every
      letter is such a byte), while accented Latin letters in Windows-1252 stand
      one or two at a time between ASCII letters. If most bytes ≥ 0x80 have a
      neighbour that is also ≥ 0x80, the text is read as Windows-1251; otherwise as
      Windows-1252 (a superset of Latin-1's printable characters).
    """
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    high = [i for i, b in enumerate(data) if b >= 0x80]
    if not high:
        return "utf-8"
    paired = 0
    for i in high:
        before = data[i - 1] if i > 0 else 0
        after = data[i + 1] if i + 1 < len(data) else 0
        if before >= 0x80 or after >= 0x80:
            paired += 1
    return "cp1251" if paired > len(high) / 2 else "cp1252"


def _keep_latin1(error: UnicodeError) -> tuple[str | bytes, int]:
    """Bytes an encoding leaves undefined (cp1252's 0x81, 0x8D, ...) kept as Latin-1."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("geomines-keep-latin1", _keep_latin1)


def decode(data: bytes, encoding: str) -> str:
    """Bytes as text in a guessed ``encoding``; bytes it leaves undefined stay as their
    Latin-1 characters (a guess never fails on one odd byte).
    """
    return data.decode(encoding, errors="geomines-keep-latin1")


def recode(text: str, encoding: str) -> str:
    """Text that was read as Latin-1 (one character per byte) decoded as ``encoding``."""
    return decode(text.encode("latin-1"), encoding)
