"""Lambda runtimes and architectures the layer can be built for, and what they mean for wheels.

Lambda's python3.12 and python3.13 runtimes run on Amazon Linux 2023 (glibc 2.34), so a wheel
fits when its interpreter tag matches CPython 3.x (or abi3/none), and its platform tag is
``any`` or a manylinux tag for the architecture with a glibc of at most 2.34.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORTED_RUNTIMES = ("python3.12", "python3.13")
SUPPORTED_ARCHITECTURES = ("arm64", "x86_64")
DEFAULT_ARCHITECTURE = "arm64"

# Lambda architecture name -> machine name in wheel platform tags.
_MACHINES = {"arm64": "aarch64", "x86_64": "x86_64"}
_MIN_GLIBC_MINOR = 17  # manylinux2014, the oldest policy these architectures share
_MAX_GLIBC_MINOR = 34  # Amazon Linux 2023


class UnsupportedTargetError(ValueError):
    """The runtime or architecture is not one the layer can be built for."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """A Lambda runtime + architecture pair, validated."""

    runtime: str
    architecture: str

    @property
    def python_version(self) -> str:
        """``3.12`` for ``python3.12``."""
        return self.runtime.removeprefix("python")

    @property
    def abi(self) -> str:
        """CPython ABI tag, e.g. ``cp312``."""
        return "cp" + self.python_version.replace(".", "")

    @property
    def machine(self) -> str:
        """Machine name used in wheel tags (``aarch64`` or ``x86_64``)."""
        return _MACHINES[self.architecture]

    @property
    def platform_tags(self) -> tuple[str, ...]:
        """Every manylinux platform tag the runtime accepts, newest first."""
        tags = [
            f"manylinux_2_{minor}_{self.machine}"
            for minor in range(_MAX_GLIBC_MINOR, _MIN_GLIBC_MINOR - 1, -1)
        ]
        return (*tags, f"manylinux2014_{self.machine}")

    @property
    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values of the Lambda runtime (not of the machine building the layer)."""
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{self.python_version}.0",
            "os_name": "posix",
            "platform_machine": self.machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{self.python_version}.0",
            "python_version": self.python_version,
            "sys_platform": "linux",
        }

    def accepts_platform_tag(self, platform_tag: str) -> bool:
        """Whether a wheel platform tag can run on this target."""
        return platform_tag == "any" or platform_tag in self.platform_tags


def make_target(*, runtime: str, architecture: str) -> Target:
    """Validate a runtime/architecture pair; the error names the rejected value."""
    if runtime not in SUPPORTED_RUNTIMES:
        raise UnsupportedTargetError(
            f"unsupported runtime {runtime!r}; supported: {', '.join(SUPPORTED_RUNTIMES)}"
        )
    if architecture not in SUPPORTED_ARCHITECTURES:
        raise UnsupportedTargetError(
            f"unsupported architecture {architecture!r}; supported: "
            f"{', '.join(SUPPORTED_ARCHITECTURES)}"
        )
    return Target(runtime=runtime, architecture=architecture)
