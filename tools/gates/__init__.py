"""Quality and security gates that `make test` runs on the synthesized output.

- :mod:`tools.gates.checkov_gate`: checkov on every ``cdk.tf.json`` (offline, own virtualenv),
  where a file checkov could not parse is a failure and every skipped check has a reason in
  ``checkov_skips.yaml``.
- :mod:`tools.gates.iam_policies`: IAM rules checkov does not enforce (exact GitHub OIDC
  ``aud``/``sub`` pins, no wildcard actions, scoped ``iam:PassRole``).
- :mod:`tools.gates.canaries`: finds secret canary values in files and logs.
- :mod:`tools.gates.mutation`: ``make mutation`` (not part of ``make test``): mutmut over
  ``lambda_src/`` and ``modules/core/`` and its kill ratio.
"""
