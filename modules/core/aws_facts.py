"""What AWS itself fixes, written once: partitions, read-only action names, Lambda's floor.

Plain constants and one pure function, no imports: the config models, the constructs, the ops
commands, the renderers and the gates import them from here; the README, config/schema.json and
checkov_skips.yaml are checked against them by tests/modules/core/test_facts.py, which also
compares each value with AWS's published data (botocore's endpoints.json, the documentation
quoted below).
"""

from __future__ import annotations

#: The partitions the toolkit deploys into, with the prefix of their region names (botocore
#: data/endpoints.json: "partitions" -> "partition" and "regionRegex"). The trigger function
#: keeps its own copy (lambda_src/github_trigger/config.py, PARTITIONS: it ships alone in its
#: zip); a test compares the two.
PARTITION_REGION_PREFIXES: dict[str, str] = {
    "aws-cn": "cn-",
    "aws-us-gov": "us-gov-",
    "aws": "",
}
PARTITIONS: tuple[str, ...] = ("aws", "aws-cn", "aws-us-gov")

#: Name prefixes of the AWS API operations that only read (IAM's "Read" and "List" access
#: levels use these verbs). `make preflight` refuses to call anything else and
#: `make deployer-policy READ_ONLY=1` keeps only these actions.
READ_ONLY_ACTION_PREFIXES: tuple[str, ...] = ("Get", "List", "Describe", "Head")

#: Lambda keeps this much of an account's concurrency unreserved: "You can reserve up to the
#: Unreserved account concurrency value minus 100. The remaining 100 units of concurrency are
#: for functions that aren't using reserved concurrency." (AWS Lambda developer guide,
#: "Configuring reserved concurrency for a function",
#: https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). So an account
#: whose concurrency quota is 100 or less (new accounts may start with 10) cannot reserve any.
LAMBDA_UNRESERVED_MINIMUM = 100

#: Lambda's limit on a function's environment variables, all keys and values together
#: ("Lambda quotas": "Function environment variables: 4 KB").
LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096


def partition_of_region(region: str) -> str:
    """The partition of a region name (``cn-north-1`` -> ``aws-cn``); ``aws`` by default."""
    for partition, prefix in PARTITION_REGION_PREFIXES.items():
        if prefix and region.startswith(prefix):
            return partition
    return "aws"


def partition_pattern() -> str:
    """The partitions as one regex alternation: ``aws|aws-cn|aws-us-gov``."""
    return "|".join(PARTITIONS)
