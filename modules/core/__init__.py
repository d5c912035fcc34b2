"""Core: the config models and the small pieces every side shares (names, tags, HCL literals,
policy documents, the account context, the product template's parameter contract).

May import: the standard library, pydantic/yaml, cdktf and the AWS provider. Never anything else
of ours: ``core`` is the bottom layer (``tests/modules/test_layout.py`` enforces it).
"""
