"""Operations on synthesized output that users run: offline provider mirror and the AWS-half
copy (``terraform``), ``make validate`` (``validate``), ``make drift`` (``drift``).

May import: ``modules.core`` and the standard library. Never the constructs, and never
``tools/`` (developer tooling).
"""
