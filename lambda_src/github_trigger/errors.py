"""Exception classes of the trigger function.

Lambda's asynchronous invocation retries every raised error, so the class of an error does not
change whether Lambda retries; it changes what the handler records first:

* ``RetryableError``: a transient failure (GitHub 5xx, 429, rate-limit 403, timeouts,
  throttled AWS calls). The idempotency claim is released so the retry dispatches again.
* ``NonRetryableError``: a permanent failure (bad token, unknown repository or workflow,
  invalid inputs, missing secret). It is recorded in the idempotency table, so Lambda's retries
  of the same event short-circuit without calling GitHub again and the event still ends in the
  function's on-failure destination.
* ``InvalidEventError`` / ``ConfigurationError``: the event or the environment is malformed;
  nothing is dispatched and nothing is recorded (there may be no model package ARN to key on).

No message built here ever contains the GitHub token.
"""

from __future__ import annotations


class TriggerError(Exception):
    """Base class of every error the trigger function raises on purpose."""


class ConfigurationError(TriggerError):
    """The function's environment variables are missing or invalid."""


class InvalidEventError(TriggerError):
    """The invocation payload does not have the shape the EventBridge target sends."""


class RetryableError(TriggerError):
    """A transient failure: Lambda's retry may succeed."""


class NonRetryableError(TriggerError):
    """A permanent failure: retrying the same event cannot succeed."""


class GitHubUnavailableError(RetryableError):
    """GitHub answered 5xx, or the request failed or timed out on the network."""


class GitHubRateLimitedError(RetryableError):
    """GitHub answered 429 or a rate-limit 403."""


class DispatchInProgressError(RetryableError):
    """Another invocation holds the claim for this model package ARN and has not finished."""


class AwsServiceError(RetryableError):
    """An AWS call (DynamoDB, Secrets Manager) failed in a way that may be transient."""


class GitHubRequestRejectedError(NonRetryableError):
    """GitHub rejected the dispatch: 401, 403 (not rate limit), 404, 422 or another 4xx."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class TokenSecretError(NonRetryableError):
    """The GitHub token secret is missing, unreadable or malformed."""


class PreviouslyFailedError(NonRetryableError):
    """A retry of an event whose dispatch already failed permanently; GitHub is not called."""
