"""The project's SageMaker model-building pipeline: definition, scripts and the run command.

`python -m pipelines.run_pipeline` (see run_pipeline.py) is what the build workflow runs.
"""
