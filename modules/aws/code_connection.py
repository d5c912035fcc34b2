"""The CodeConnections connection to GitHub a project's SageMaker code repository uses.

Either an existing connection (ARN from config) or one created by the plan. A created
connection stays PENDING until a person completes the GitHub handshake in the console, so its
console address is exported as an output. The product template wants the connection's unique id,
the UUID at the end of the ARN.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn, TerraformOutput
from cdktf_cdktf_provider_aws.codeconnections_connection import CodeconnectionsConnection
from constructs import Construct

from modules.core.naming import bounded


@dataclass(frozen=True, kw_only=True)
class CodeConnectionProps:
    """Props of :class:`CodeConnection`.

    Attributes:
        project_name: used in the created connection's name.
        existing_arn: a connection ARN. Default: create one (PENDING until the handshake).
        existing_unique_id: the UUID of ``existing_arn`` (parsed by the config).
        region: the region token, for the console address of a created connection.
    """

    project_name: str
    existing_arn: str | None = None
    existing_unique_id: str | None = None
    region: str


class CodeConnection(Construct):
    """Attributes: ``connection_arn``, ``unique_id``, ``created``."""

    def __init__(self, scope: Construct, id_: str, props: CodeConnectionProps) -> None:
        super().__init__(scope, id_)
        if props.existing_arn is not None:
            if not props.existing_unique_id:
                raise ValueError(f"{self.node.path}: existing_arn needs existing_unique_id")
            self.created = False
            self.connection_arn: str = props.existing_arn
            self.unique_id: str = props.existing_unique_id
            return
        self.created = True
        connection = CodeconnectionsConnection(
            self,
            "connection",
            # Connection names are at most 32 characters.
            name=bounded("sm", props.project_name, max_length=32),
            provider_type="GitHub",
        )
        self.connection_arn = connection.arn
        self.unique_id = Fn.element(Fn.split("/", connection.arn), 1)
        TerraformOutput(
            self,
            "handshake",
            value=(
                f"Connection {connection.name} is PENDING until you complete the GitHub "
                f"handshake: https://console.aws.amazon.com/codesuite/settings/connections?"
                f"region={props.region} -> {connection.name} -> Update pending connection"
            ),
            description="The one manual step: authorize the GitHub connection",
        )
