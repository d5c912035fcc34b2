"""Explicit, non-empty ``tags`` on every taggable AWS resource of a stack.

Why: a resource created without ``tags`` is stored with ``tags = null`` and read back by the AWS
provider as ``tags = {}``; that difference makes every refresh-only plan report "changes outside
Terraform". Giving each resource one explicit tag, its
construct path within the stack, removes the flap and tells a console user which construct owns
the resource. The environment's own tags still come from the provider's ``default_tags``.
"""

from __future__ import annotations

from cdktf import TerraformResource, TerraformStack

COMPONENT_TAG = "mlops:component"


def apply_explicit_tags(stack: TerraformStack) -> int:
    """Add ``mlops:component`` to every taggable AWS resource under ``stack``; return how many."""
    tagged = 0
    for construct in stack.node.find_all():
        if not isinstance(construct, TerraformResource):
            continue
        if not construct.terraform_resource_type.startswith("aws_"):
            continue
        if not hasattr(construct, "reset_tags"):  # the resource type has no tags argument
            continue
        path = construct.node.path.split("/", 1)[1]
        existing = dict(getattr(construct, "tags_input", None) or {})
        existing.setdefault(COMPONENT_TAG, path)
        construct.tags = existing  # type: ignore[attr-defined]
        tagged += 1
    return tagged
