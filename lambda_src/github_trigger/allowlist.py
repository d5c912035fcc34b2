"""Which (owner, repository, workflow, ref) the function may dispatch: the plan's list.

Studio users choose the provisioning parameters that reach the function in the event, so the
event alone cannot be trusted to name the target. Terraform gives the function the list of
targets it configured in the ``ALLOWED_TARGETS`` variable; anything else is ignored.

Lambda's environment is limited to 4 KB in all, so the list holds digests, not names: for each
target, the first 96 bits of SHA-256 over ``owner/repository`` (lower case: GitHub names are case
insensitive), the workflow and the ref, one per line, in URL-safe base64 without padding (16
characters). The variable is the sorted digests joined by commas (17 bytes per target: 200
targets take 3.4 KB). A forged target would need a 96-bit second preimage.

Plain Python, no imports from the rest of the package: everyone imports this file as
``github_trigger.allowlist`` (the construct through ``modules/aws/trigger_contract.py``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

DIGEST_BYTES = 12
DIGEST_CHARS = 16
SEPARATOR = ","
_DIGEST_RE = re.compile(rf"^[A-Za-z0-9_-]{{{DIGEST_CHARS}}}$")


@dataclass(frozen=True, kw_only=True, order=True)
class DispatchTarget:
    """A workflow the plan configured: ``workflow`` on ``ref`` in ``owner/repository``."""

    owner: str
    repository: str
    workflow: str
    ref: str

    def digest(self) -> str:
        """The target's entry in ``ALLOWED_TARGETS``."""
        for name, value in (
            ("owner", self.owner),
            ("repository", self.repository),
            ("workflow", self.workflow),
            ("ref", self.ref),
        ):
            if not value or "\n" in value:
                raise ValueError(f"DispatchTarget.{name} must be a non-empty line, got {value!r}")
        canonical = (
            f"{self.owner.lower()}/{self.repository.lower()}\n{self.workflow}\n{self.ref}"
        ).encode()
        raw = hashlib.sha256(canonical).digest()[:DIGEST_BYTES]
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_allowed_targets(targets: Iterable[DispatchTarget]) -> str:
    """The ``ALLOWED_TARGETS`` value: sorted, de-duplicated digests joined by commas."""
    return SEPARATOR.join(sorted({target.digest() for target in targets}))


def decode_allowed_targets(text: str) -> frozenset[str]:
    """The digests in an ``ALLOWED_TARGETS`` value; ValueError naming a malformed entry."""
    entries = [entry.strip() for entry in text.split(SEPARATOR)] if text.strip() else []
    for position, entry in enumerate(entries):
        if not _DIGEST_RE.fullmatch(entry):
            raise ValueError(
                f"entry {position} is not a {DIGEST_CHARS}-character target digest: {entry[:40]!r}"
            )
    return frozenset(entries)
