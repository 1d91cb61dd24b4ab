"""Text normalisation applied to every text that enters Maillage (API bodies, ingest files).

One function, ``normalise_text``, in this order:

1. **valid Unicode**: a lone surrogate (``"\\ud800"``, which JSON can carry as an escape but
   UTF-8 cannot encode) is refused with a French ``ValueError``;
2. **format characters removed**: every character of Unicode category *Cf*: zero-width
   space, non-joiner and joiner, word joiner, BOM (U+FEFF), soft hyphen, bidirectional
   marks, embeddings, overrides and isolates, invisible operators, tags… They display as
   nothing (or change the display of what follows) and none is needed to write French; the
   no-break spaces (U+00A0, U+202F) and the apostrophe are not in that category. Emoji
   sequences lose their joiners and nothing else;
3. **control characters**: C0/C1 controls other than tab, line feed and carriage return
   are removed (PostgreSQL refuses NUL), those that separate like whitespace (vertical tab,
   form feed, NEL…) become a space;
4. **NFC** (after the removal, so that "e", a zero-width space and a combining acute accent
   compose into "é"), then leading and trailing whitespace stripped.

So "tre\\u0301sorerie", "tré\\u200bsorerie" and "trésorerie" are the same text for every
channel (lexical, semantic, the store), and a text of invisible characters only is empty,
like a text of spaces.

Not removed: letters and marks that display as nothing in some fonts (Hangul fillers,
variation selectors): they are not format characters, and looking for them would cost a
scan of every text; a text made only of them is not empty.

Example:
    >>> normalise_text("  tre\\u0301so\\u200brerie\\ufeff ")
    'trésorerie'
    >>> normalise_text("\\u200b\\u2060")
    ''
"""

from __future__ import annotations

import re
import unicodedata

# (first, last) code points of category Cf in Unicode 15.1; tests check that every Cf
# character of the running Python's Unicode database is covered.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x0600, 0x0605),  # Arabic number signs
    (0x061C, 0x061C),  # Arabic letter mark
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width space, non-joiner, joiner, LRM, RLM
    (0x202A, 0x202E),  # bidirectional embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x206F),  # bidirectional isolates, deprecated format characters
    (0xFEFF, 0xFEFF),  # zero-width no-break space (BOM)
    (0xFFF9, 0xFFFB),  # interlinear annotation
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),  # Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0001, 0xE0001),  # language tag
    (0xE0020, 0xE007F),  # tags
)

_INVISIBLE = re.compile(
    "["
    + "".join(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}" for lo, hi in INVISIBLE_RANGES)
    + "]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_MAP = {c: (" " if chr(c).isspace() else None) for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if c not in (9, 10, 13)}


def check_unicode(value: str) -> None:
    """Refuse a lone surrogate (``ValueError``, in French)."""
    if not value.isascii() and (m := _SURROGATE.search(value)):
        raise ValueError(
            f"texte Unicode invalide : caractère de substitution isolé U+{ord(m.group()):04X} "
            f"(position {m.start() + 1}) ; du texte UTF-8 valide est attendu"
        )


def normalise_text(value: str) -> str:
    """Valid Unicode, format and control characters removed, NFC, stripped. An unchanged text
    is returned as is (the same object: callers test ``is`` to skip work)."""
    # Python's str.isprintable() is False for every Cf, Cc and surrogate character (and for
    # the separators other than the space, such as the no-break spaces): most texts are
    # printable and skip the searches.
    if not value.isprintable():
        check_unicode(value)
        value = _INVISIBLE.sub("", value)
        if _CONTROL.search(value):
            value = value.translate(_CONTROL_MAP)
    if not value.isascii() and not unicodedata.is_normalized("NFC", value):
        value = unicodedata.normalize("NFC", value)  # after the removal: "e", U+200B, U+0301 -> "é"
    return value.strip()
