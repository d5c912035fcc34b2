"""Deployment of an approved model package to this project's SageMaker endpoints.

``python -m deploy.deploy --help`` shows the command that ``.github/workflows/deploy.yml`` runs.
"""
