"""Building blocks of the SageMaker → GitHub Actions trigger function (entry point: handler.py)."""
