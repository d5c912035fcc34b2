"""Typed IAM policy documents: statements in Python, JSON from the provider.

Documents are ``aws_iam_policy_document`` data sources, so the provider renders them with a
stable key order (no plan flaps from hand-made JSON) and tests can read each statement from the
synthesized configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class Condition:
    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Statement:
    """One IAM statement. ``principals`` maps a principal type to identifiers (trust policies).

    Attributes:
        sid: statement id (letters and digits).
        actions: the actions; never ``*`` or ``service:*`` in an Allow.
        resources: the resources. Default: none (trust policies have none).
        conditions: the conditions. Default: none.
        principals: principal type -> identifiers. Default: none.
        effect: ``Allow`` or ``Deny``. Default: ``Allow``.
    """

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    principals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    effect: str = "Allow"

    def __post_init__(self) -> None:
        if not self.sid.isalnum():
            raise ValueError(f"Statement sid {self.sid!r}: use letters and digits only")
        for action in self.actions:
            # Wildcards are refused in grants; a Deny may (and should) cover everything.
            if self.effect == "Allow" and (action == "*" or action.endswith(":*")):
                raise ValueError(
                    f"Statement {self.sid}: action {action!r} is a wildcard; list the actions"
                )


#: What a stage's deploy job does to its endpoint, endpoint configurations and models
#: (render/seed/deploy/deploy.py), in the stage's own account or the home account alike.
ENDPOINT_DEPLOY_ACTIONS: tuple[str, ...] = (
    "sagemaker:AddTags",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateModel",
    "sagemaker:DeleteEndpoint",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteModel",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeModel",
    "sagemaker:InvokeEndpoint",
    "sagemaker:ListTags",
    "sagemaker:UpdateEndpoint",
)


#: SageMaker's approval statuses (CreateModelPackage / UpdateModelPackage ModelApprovalStatus).
PENDING_MANUAL_APPROVAL = "PendingManualApproval"
APPROVED = "Approved"
#: AWS's condition key for the status a CreateModelPackage/UpdateModelPackage request sets
#: (Service Authorization Reference, Amazon SageMaker: both actions list it).
MODEL_APPROVAL_STATUS_KEY = "sagemaker:ModelApprovalStatus"


def no_self_approval(*, allow_registered_approved: bool = False) -> Statement:
    """Deny setting ``Approved`` on a model package: approvals are a person's (Studio / Model
    Registry), never the build's or the pipeline's code. With ``allow_registered_approved``
    (``platform.auto_approve_staging``) a package may be *created* Approved; updating one to
    Approved stays denied. A request that sets no status does not match (StringEquals on an
    absent key), so describing or re-tagging packages is unaffected."""
    actions: tuple[str, ...] = ("sagemaker:UpdateModelPackage",)
    if not allow_registered_approved:
        actions = ("sagemaker:CreateModelPackage", *actions)
    return Statement(
        sid="NoSelfApproval",
        effect="Deny",
        actions=actions,
        resources=("*",),
        conditions=(
            Condition(test="StringEquals", variable=MODEL_APPROVAL_STATUS_KEY, values=(APPROVED,)),
        ),
    )


# pragma: no mutate start (cdktf only: see [tool.mutmut] in pyproject.toml)
def policy_document(scope: Construct, id_: str, statements: Sequence[Statement]) -> str:
    """Create an ``aws_iam_policy_document`` and return its JSON (a token)."""
    if not statements:
        raise ValueError(f"{scope.node.path}/{id_}: a policy document needs a statement")
    doc = DataAwsIamPolicyDocument(
        scope,
        id_,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid=s.sid,
                effect=s.effect,
                actions=list(s.actions),
                resources=list(s.resources) or None,
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test=c.test, variable=c.variable, values=list(c.values)
                    )
                    for c in s.conditions
                ]
                or None,
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(type=t, identifiers=list(ids))
                    for t, ids in s.principals
                ]
                or None,
            )
            for s in statements
        ],
    )
    return doc.json


# pragma: no mutate end
