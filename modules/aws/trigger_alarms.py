"""Alarms on the trigger's failure queue and on function errors, and whom they notify.

A child of :class:`~modules.aws.trigger_function.TriggerFunction` that creates its resources in
the parent's scope (``scope`` is the trigger construct), so their addresses stay those of the
trigger (see docs/architecture.md, "Child constructs").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.core.naming import bounded


@dataclass(frozen=True, kw_only=True)
class TriggerAlarmsProps:
    """Attributes:
    function_name: the trigger function's literal name (alarm and topic names, descriptions).
    queue_name / function_name_ref: the failure queue and the function, as references (the
        alarms' dimensions).
    alarm_topic_arn: an existing SNS topic to notify. Default: none.
    alarm_emails: addresses subscribed to a topic created here. Default: no topic.
    """

    function_name: str
    queue_name: str
    function_name_ref: str
    alarm_topic_arn: str | None = None
    alarm_emails: tuple[str, ...] = ()


class TriggerAlarms:
    """Attributes: ``failure_alarm_arn``, ``error_alarm_arn``, ``topic_arns`` (whom both
    notify: the given topic, then the e-mail topic)."""

    def __init__(self, scope: Construct, props: TriggerAlarmsProps) -> None:
        self._scope = scope
        self._props = props
        topic_arns: list[str] = []
        if props.alarm_topic_arn is not None:
            topic_arns.append(props.alarm_topic_arn)
        if props.alarm_emails:
            topic_arns.append(self._email_topic())
        self.topic_arns: tuple[str, ...] = tuple(topic_arns)
        self.failure_alarm_arn: str = self._alarm(
            "failures-alarm",
            "failed-events",
            f"Approvals that {props.function_name} could not dispatch are waiting in the "
            "failure queue: read the message and the function's log lines with outcome failed",
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", props.queue_name, "Maximum"),
        )
        self.error_alarm_arn: str = self._alarm(
            "errors-alarm",
            "errors",
            f"{props.function_name} raised errors (Lambda retries them; see the log lines "
            "with outcome retry or failed)",
            ("AWS/Lambda", "Errors", props.function_name_ref, "Sum"),
        )

    def _email_topic(self) -> str:
        # Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS-managed
        # aws/sns key, and alarm notifications carry no secret (alarm name, metric, state).
        topic = SnsTopic(
            self._scope,
            "alarm-topic",
            name=bounded(self._props.function_name, "alarms", max_length=256),
            display_name="SageMaker GitHub trigger alarms",
        )
        for index, email in enumerate(sorted(set(self._props.alarm_emails))):
            SnsTopicSubscription(
                self._scope,
                f"alarm-email-{index}",
                topic_arn=topic.arn,
                protocol="email",
                endpoint=email,
            )
        return topic.arn

    def _alarm(
        self, id_: str, suffix: str, description: str, metric: tuple[str, str, str, str]
    ) -> str:
        namespace, metric_name, dimension, statistic = metric
        alarm = CloudwatchMetricAlarm(
            self._scope,
            id_,
            alarm_name=bounded(self._props.function_name, suffix, max_length=255),
            alarm_description=description,
            namespace=namespace,
            metric_name=metric_name,
            dimensions={"QueueName" if namespace == "AWS/SQS" else "FunctionName": dimension},
            statistic=statistic,
            period=300,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=list(self.topic_arns),
            ok_actions=list(self.topic_arns),
        )
        return alarm.arn
