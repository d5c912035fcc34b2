"""Text that Terraform must take literally.

Terraform evaluates ``${...}`` and ``%{...}`` inside every string of a ``.tf.json`` file, so
literal file contents that contain them (CloudFormation ``Fn::Sub`` strings, GitHub Actions
``${{ }}`` expressions) must escape them as ``$${`` and ``%%{``; Terraform turns those back into
``${`` and ``%{`` (Terraform language docs, "Strings and Templates": escape sequences).
"""

from __future__ import annotations


def literal(text: str) -> str:
    """Escape ``text`` so that Terraform's value of the string is exactly ``text``."""
    return text.replace("${", "$${").replace("%{", "%%{")
