"""Exception classes of the trigger function.

Lambda's asynchronous invocation retries every raised error, so the class of an error does not
change whether Lambda retries; it changes what the handler records first:

* ``RetryableError``: a transient failure (GitHub 5xx, 429, rate-limit 403, timeouts,
  throttled AWS calls). The idempotency claim is released so the retry dispatches again.
* ``NonRetryableError``: a permanent failure (bad token, unknown repository or workflow,
  repository moved, invalid inputs, missing secret), or a dispatch whose outcome is unknown
  (GitHub may have accepted it). It is recorded in the idempotency table, so Lambda's retries
  of the same event short-circuit without calling GitHub again and the event still ends in the
  function's on-failure destination.
* ``InvalidEventError`` / ``ConfigurationError``: the event or the environment is malformed;
  nothing is dispatched and nothing is recorded (there may be no model package ARN to key on).

Once GitHub has accepted a dispatch, no error is raised at all (handler.py).

No message built here ever contains the GitHub token.
"""

from __future__ import annotations


class TriggerError(Exception):
    """Base class of every error the trigger function raises on purpose."""


class ConfigurationError(TriggerError):
    """The function's environment variables are missing or invalid."""


class RetryableError(TriggerError):
    """A transient failure: Lambda's retry may succeed."""


class NonRetryableError(TriggerError):
    """A permanent failure: retrying the same event cannot succeed."""


class InvalidEventError(NonRetryableError):
    """The invocation payload does not have the shape the EventBridge target sends."""


class GitHubUnavailableError(RetryableError):
    """GitHub answered 5xx, or the request failed or timed out on the network."""


class GitHubRateLimitedError(RetryableError):
    """GitHub answered 429 or a rate-limit 403."""


class DispatchInProgressError(RetryableError):
    """Another invocation holds the claim for this model package ARN and has not finished."""


class AwsServiceError(RetryableError):
    """An AWS call (DynamoDB, Secrets Manager) failed in a way that may be transient."""


class GitHubRequestRejectedError(NonRetryableError):
    """GitHub rejected the dispatch: 401, 403 (not rate limit), 404, 422 or another 4xx, or a
    redirect (3xx: the repository moved; the configuration must name its new location)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class GitHubOutcomeUnknownError(NonRetryableError):
    """The request may have reached GitHub but no usable answer came back (read timeout, broken
    connection, gateway timeout, an unexpected exception). Retrying could dispatch twice, so the
    claim is kept and the event goes to the failure destination for a person to check."""


class UnfinishedClaimError(NonRetryableError):
    """A claim whose lease expired without an outcome: its invocation may have dispatched."""


class TokenSecretError(NonRetryableError):
    """The GitHub token secret is missing, unreadable or malformed."""


class PreviouslyFailedError(NonRetryableError):
    """A retry of an event whose dispatch already failed permanently; GitHub is not called."""
