"""Text that CDKTF would read as a token, found the way CDKTF 0.21 finds it.

Before writing JSON, CDKTF resolves every string of the stack (keys included) and swaps what
looks like an encoded token for the reference it stands for, or fails with a jsii traceback when
no such token exists. A config value that looks like one therefore never reaches Terraform as
written: the loader refuses it, whatever the field (``modules.core.config.loading``).

What CDKTF treats as a token (cdktf 0.21.0, the jsii tarball shipped in the ``cdktf`` wheel,
``cdktf/_jsii/cdktf@0.21.0.jsii.tgz``, paths inside ``package/``):

* string markers ``${TfToken[``, list markers ``#{TfToken[`` and map markers ``&{TfToken[``
  followed by ``[a-zA-Z0-9:._-]+]}`` (``lib/tokens/private/encoding.js`` lines 20-31,
  STRING/LIST/MAP_TOKEN_REGEX). Any text holding ``{TfToken[`` is refused (a superset:
  ``modules.core.hcl.CDKTF_TOKEN_MARKER``);
* the two map placeholder strings, which make resolve() throw when met as a string
  (``lib/tokens/private/resolve.js`` lines 86-88, values in ``lib/tokens/token.js`` lines 141
  and 149);
* numbers: after string tokens, every string is scanned with NUMBER_TOKEN_REGEX
  (``encoding.js`` line 32, ``[-|\\d|.\\+]+(e[-|\\d|.|e|E|\\+]+)``, used by
  ``resolve.js`` lines 98-105); each match goes through JavaScript's ``parseFloat`` and is a
  token when the top 16 bits of the IEEE double are the token marker ``0xfdff``
  (``extractTokenDouble``, ``encoding.js`` lines 337 and 394-406; looked up in
  ``lib/tokens/private/token-map.js`` lines 142-152, which substitutes a known index and throws
  on an unknown one). Number lists use marker ``0xfbff`` (``encoding.js`` lines 339, 264-265);
  text in that range is refused too, so no config value is either encoding.

``tests/modules/core/test_config_tokens.py`` runs CDKTF's own ``encoding.js`` in Node on
generated strings and checks that :func:`number_tokens` finds exactly what CDKTF finds.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Iterator

from modules.core.hcl import CDKTF_TOKEN_MARKER

#: ``Token.STRING_MAP_TOKEN_VALUE`` and ``Token.ANY_MAP_TOKEN_VALUE`` (token.js lines 141, 149).
MAP_TOKEN_VALUES = ("String Map Token Value", "Any Map Token Value")
#: ``Token.NUMBER_MAP_TOKEN_VALUE`` (token.js line 145): a number CDKTF refuses in a scalar.
NUMBER_MAP_TOKEN_VALUE = -123456789
#: Top 16 bits of an encoded number token and of an encoded number-list token (encoding.js
#: lines 337 and 339: ``0xfdff << 16`` and ``0xfbff << 16``).
NUMBER_TOKEN_BITS = (0xFDFF, 0xFBFF)

# CDKTF's NUMBER_TOKEN_REGEX matches, from the leftmost start, a run of [-|0-9.+] followed by
# 'e' and a run of [-|0-9.|eE+]. Since 'e' is not in the first class, a match can only start
# at the beginning of such a run; the look-behind says so, which keeps the scan linear (the
# literal pattern retries every position of a long digit run: quadratic on a 1 MiB value).
# The test compares both patterns on generated text.
NUMBER_RE = re.compile(r"(?<![-|0-9.+])[-|0-9.+]+e[-|0-9.eE+]+", re.ASCII)
# JavaScript's parseFloat reads the longest prefix that is a decimal literal (ECMA-262
# StrDecimalLiteral); the matched text holds no space, so no trimming is needed.
_JS_FLOAT_PREFIX = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


def js_parse_float(text: str) -> float:
    """JavaScript's ``parseFloat`` for text made of ``-|0-9.+eE`` (NaN when no prefix)."""
    m = _JS_FLOAT_PREFIX.match(text)
    return float(m.group()) if m else math.nan


def is_token_number(value: float) -> bool:
    """Whether CDKTF would decode ``value`` as an encoded number or number-list token."""
    if math.isnan(value):
        return False
    (bits,) = struct.unpack("<Q", struct.pack("<d", value))
    return (bits >> 48) in NUMBER_TOKEN_BITS


def number_tokens(text: str) -> Iterator[str]:
    """The parts of ``text`` that CDKTF's number scan would read as encoded tokens."""
    for m in NUMBER_RE.finditer(text):
        if is_token_number(js_parse_float(m.group())):
            yield m.group()


def token_reason(text: str) -> str | None:
    """Why CDKTF would not keep ``text`` as written, or ``None`` when it would."""
    if CDKTF_TOKEN_MARKER in text:
        return (
            f"holds {CDKTF_TOKEN_MARKER!r}, the marker CDKTF uses for references; it can never "
            "be written literally: remove it"
        )
    if text in MAP_TOKEN_VALUES:
        return "is a placeholder CDKTF uses for map references; it cannot be a value: change it"
    found = next(number_tokens(text), None)
    if found is not None:
        shown = found if len(found) <= 40 else found[:37] + "..."
        return (
            f"holds {shown!r}, a number in the range CDKTF uses to encode references; CDKTF "
            "would swap it for a reference or fail: change the digits or the 'e' after them"
        )
    return None


def number_reason(value: float) -> str | None:
    """Why CDKTF would not keep the number ``value`` as written, or ``None``."""
    if value == NUMBER_MAP_TOKEN_VALUE or is_token_number(value):
        return "is a number CDKTF uses to encode references; no setting takes it"
    return None
