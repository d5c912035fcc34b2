"""The AWS half: one construct per file (OIDC provider, Actions identities, token secret, trigger
function, hardened bucket, Service Catalog template catalog, CodeConnection, SageMaker project,
pipeline role).

May import: ``modules.core``, cdktf and the AWS provider; ``trigger_function`` also the
function's own dependency-free contract (``github_trigger.budget``, ``.allowlist``). Never
``modules.github`` or ``modules.render``: the stack passes rendered text and GitHub facts in.
"""
