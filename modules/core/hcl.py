"""Text that Terraform must take literally.

Terraform evaluates ``${...}`` and ``%{...}`` inside every string of a ``.tf.json`` file, so
literal file contents that contain them (CloudFormation ``Fn::Sub`` strings, GitHub Actions
``${{ }}`` expressions) must escape them as ``$${`` and ``%%{``; Terraform turns those back into
``${`` and ``%{`` (Terraform language docs, "Strings and Templates": escape sequences).

CDKTF 0.21 adds a second reading: before writing JSON it replaces ``${TfToken[<id>]}`` (and the
``#{`` / ``&{`` list and map forms) anywhere in a string with the reference the token stands
for (cdktf ``lib/tokens/private/encoding.ts``, STRING_TOKEN_REGEX), even after ``$${``. No
escape exists for that, so text holding ``{TfToken[`` cannot be a literal: the config refuses it
(``modules.core.config.loading``) and :func:`literal` raises rather than let it through.

Every string from the config that can hold ``$``, ``%`` or ``{`` goes through :func:`literal`;
fields whose validation pattern excludes those characters say so where they are validated.
"""

from __future__ import annotations

#: CDKTF's token markers without their sigil: ``${``, ``#{`` and ``&{`` + ``TfToken[``.
CDKTF_TOKEN_MARKER = "{TfToken["  # noqa: S105 - a marker, not a password


class NotLiteralError(ValueError):
    """Text that CDKTF would read as a token reference: it cannot be written literally."""


def literal(text: str) -> str:
    """Escape ``text`` so that Terraform's value of the string is exactly ``text``.

    Raises :class:`NotLiteralError` when ``text`` holds CDKTF's token marker ``{TfToken[``.
    """
    if CDKTF_TOKEN_MARKER in text:
        raise NotLiteralError(
            f"{text[:80]!r} holds {CDKTF_TOKEN_MARKER!r}, CDKTF's token marker; it would be "
            "replaced by a reference, so it cannot be written literally"
        )
    return text.replace("${", "$${").replace("%{", "%%{")
