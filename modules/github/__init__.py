"""The GitHub half: one construct per file (Actions variables and secrets, managed and seeded
repository files, deployment environments).

May import: ``modules.core``, cdktf and the GitHub provider. Never ``modules.aws`` or
``modules.render``: ARNs and rendered files arrive through props.
"""
