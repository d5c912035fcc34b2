"""``make install`` / ``make install-dev`` / ``make lock``: the virtualenv from hash-pinned locks.

Usage (standard library only: it runs before the virtualenv exists, as a script)::

    python3 modules/ops/install.py --venv .venv --lock requirements.lock
    python3 modules/ops/install.py --venv .venv --compile      # make lock

1. ``python3 -m venv --without-pip`` when the virtualenv is missing (pip comes from the lock);
2. the pinned ``uv`` (:data:`UV_VERSION`): one already in the virtualenv, on ``PATH`` or kept in
   the user's cache at that version, else installed into the virtualenv by pip (``ensurepip``
   first) from its hash-pinned line in ``requirements-dev.lock`` and kept in the cache;
3. ``uv pip install --no-deps -r <lock>`` (every line hash-checked) with what pip is
   configured with (``pip config list``: index URLs, find-links, constraints, certificates,
   trusted hosts, proxy, timeout) translated into uv's options, and pip's rule of taking the
   best version across all indexes (``--index-strategy unsafe-best-match``);
4. when uv cannot be had, a pip setting has no uv equivalent here, or uv fails: one line saying
   why, and ``pip install --require-hashes -r <lock>`` instead.

Both tools keep their download and wheel caches in the user's cache directory
(``~/.cache/uv``, ``~/.cache/pip``; ``UV_CACHE_DIR`` / ``PIP_CACHE_DIR`` move them), so every
clone on the machine shares them; uv hard-links installed files from its cache when the cache
and the virtualenv are on one filesystem, so a second clone costs almost no disk either.
No index URL is written here: uv's default index is the same as pip's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: The uv release the locks are made and installed with (also pinned in requirements-dev.txt).
UV_VERSION = "0.13.9"
PROJECT_DIR = Path(__file__).resolve().parents[2]
LOCKS = {
    "requirements.txt": "requirements.lock",
    "requirements-dev.txt": "requirements-dev.lock",
}
#: pip settings that change nothing uv would do differently (output, prompts, pip's own checks).
IGNORED = frozenset(
    {
        "disable-pip-version-check",
        "no-input",
        "quiet",
        "verbose",
        "progress-bar",
        "root-user-action",
        "require-virtualenv",
        "retries",
        "no-color",
        "log",
        "cache-dir",  # pip's own cache; uv keeps its own (UV_CACHE_DIR)
        "no-cache-dir",
        "no-warn-script-location",
        "no-warn-conflicts",
        "use-feature",
        "keyring-provider",
    }
)
#: pip's precedence: the ``install`` section over ``global``, ``PIP_*`` variables over files.
_RANK = {"global": 0, "install": 1, ":env:": 2}
_SETTING = re.compile(r"^(?P<section>[^.]*)\.(?P<key>[a-z0-9-]+)='(?P<value>.*)'$")


class NoUvEquivalentError(ValueError):
    """A pip setting that uv would not honour the same way: install with pip instead."""


@dataclass(frozen=True, kw_only=True)
class UvOptions:
    """uv's command-line options and environment for what pip is configured with."""

    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


def parse_pip_config(listing: str) -> dict[str, str]:
    """``pip config list`` output -> {key: value} for the sections an install reads.

    pip lists the files in the order it loads them (global, user, site) and then the
    ``PIP_*`` environment variables (section ``:env:``); later entries override earlier ones,
    and the ``install`` section overrides ``global`` (pip's ConfigOptionParser)."""
    ranked: dict[str, tuple[int, int, str]] = {}
    for position, line in enumerate(listing.splitlines()):
        match = _SETTING.match(line.strip())
        if match is None or match["section"] not in _RANK:
            continue
        rank = (_RANK[match["section"]], position, match["value"])
        if match["key"] not in ranked or rank > ranked[match["key"]]:
            ranked[match["key"]] = rank
    return {key: value for key, (_, _, value) in ranked.items()}


#: pip settings uv takes as options: one option per whitespace-separated value.
_AS_OPTIONS = {
    "index-url": "--index-url",
    "extra-index-url": "--extra-index-url",
    "find-links": "--find-links",
    "constraint": "--constraint",
    "trusted-host": "--allow-insecure-host",
}
#: pip settings uv takes from its environment.
_AS_ENVIRONMENT = {
    "cert": ("SSL_CERT_FILE",),
    "client-cert": ("SSL_CLIENT_CERT",),
    "timeout": ("UV_HTTP_TIMEOUT",),
    "default-timeout": ("UV_HTTP_TIMEOUT",),
    "proxy": ("HTTPS_PROXY", "HTTP_PROXY"),
}
_TRUE = frozenset({"1", "true", "yes", "on"})


def uv_options(settings: Mapping[str, str]) -> UvOptions:
    """Translate pip's settings; NoUvEquivalentError names the first one uv cannot take."""
    args: list[str] = []
    env: dict[str, str] = {}
    for key, value in sorted(settings.items()):
        if key in _AS_OPTIONS:
            for item in value.split():
                args += [_AS_OPTIONS[key], item]
        elif key in _AS_ENVIRONMENT:
            env.update(dict.fromkeys(_AS_ENVIRONMENT[key], value.strip()))
        elif key == "no-index":
            if value.strip().lower() in _TRUE:
                args.append("--no-index")
        elif key not in IGNORED:
            raise NoUvEquivalentError(f"pip setting {key}={value!r} has no uv equivalent here")
    return UvOptions(args=tuple(args), env=env)


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def uv_version(uv: str | Path) -> str | None:
    try:
        out = subprocess.run(  # noqa: S603 - the uv binary this module found
            [str(uv), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return None
    parts = out.split()
    return parts[1] if len(parts) >= 2 and parts[0] == "uv" else None


def hashed_line(lock: Path, name: str) -> str:
    """The ``name==version --hash=...`` requirement of ``name`` in a uv-compiled lock."""
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        if line.split("==", 1)[0].strip().lower() == name:
            return " ".join(part for part in line.split() if not part.startswith("#"))
    raise LookupError(f"{name} is not in {lock}")


def shared_uv() -> Path:
    """Where the pinned uv binary is kept for every clone (the user's cache directory)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sagemaker-github-mlops" / f"uv-{UV_VERSION}" / "uv"


def has_pip(python: Path) -> bool:
    probe = [str(python), "-c", "import pip"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0  # noqa: S603


def ensure_pip(python: Path) -> None:
    """pip in the virtualenv (created without it): for the uv bootstrap and the fallback."""
    if not has_pip(python):
        print(">> adding pip to the virtualenv (ensurepip)", flush=True)
        command = [str(python), "-m", "ensurepip", "--default-pip"]
        subprocess.run(command, capture_output=True, check=True)  # noqa: S603


def find_uv(venv: Path, log: list[str]) -> Path | None:
    """The pinned uv: the virtualenv's, the one on PATH, the one kept in the user's cache, or
    installed by pip from its hash-pinned lock line (then kept in the cache); None if none."""
    candidates = [venv / "bin" / "uv"]
    on_path = shutil.which("uv")
    if on_path:
        candidates.append(Path(on_path))
    candidates.append(shared_uv())
    for candidate in candidates:
        if candidate.is_file() and uv_version(candidate) == UV_VERSION:
            return candidate
    line = hashed_line(PROJECT_DIR / LOCKS["requirements-dev.txt"], "uv")
    python = venv_python(venv)
    try:
        ensure_pip(python)
    except subprocess.CalledProcessError as e:
        log.append(f"no pip to install uv with (ensurepip exit {e.returncode})")
        return None
    requirement = venv / ".uv-requirement.txt"
    requirement.write_text(line + "\n", encoding="utf-8")
    try:
        command = [str(python), "-m", "pip", "install", "--quiet", "--require-hashes"]
        command += ["-r", str(requirement)]
        result = subprocess.run(command, check=False)  # noqa: S603 - the venv's pip, built here
    finally:
        requirement.unlink(missing_ok=True)
    installed = venv / "bin" / "uv"
    if result.returncode != 0 or uv_version(installed) != UV_VERSION:
        log.append(f"uv {UV_VERSION} could not be installed (pip exit {result.returncode})")
        return None
    kept = shared_uv()
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(f".uv-{os.getpid()}")
        shutil.copy2(installed, partial)
        partial.replace(kept)
    except OSError as e:  # a read-only cache only costs the next clone this bootstrap
        print(f">> (uv not kept in {kept.parent}: {e})", flush=True)
    return installed


def pip_settings(venv: Path) -> dict[str, str]:
    """pip's configuration, read by the virtualenv's pip or else this Python's pip (the same
    files and variables: a new virtualenv has no pip.conf of its own)."""
    for python in (venv_python(venv), Path(sys.executable)):
        listing = subprocess.run(  # noqa: S603 - a pip, fixed arguments
            [str(python), "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if listing.returncode == 0:
            return parse_pip_config(listing.stdout)
    ensure_pip(venv_python(venv))
    listing = subprocess.run(  # noqa: S603 - the venv's pip, fixed arguments
        [str(venv_python(venv)), "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return parse_pip_config(listing.stdout)


def ensure_venv(venv: Path) -> Path:
    """The virtualenv's Python, creating the virtualenv if missing: without pip, which uv
    installs from the lock (ensurepip is slow, and pip is needed only as the fallback)."""
    python = venv_python(venv)
    if not python.exists():
        print(f">> creating {venv}", flush=True)
        command = [sys.executable, "-m", "venv", "--without-pip", str(venv)]
        subprocess.run(command, check=True)  # noqa: S603 - fixed arguments
    return python


def install(venv: Path, lock: Path, *, environ: Mapping[str, str] = os.environ) -> int:
    """Install ``lock`` into ``venv`` (created if missing) with uv, else pip; the exit code."""
    python = ensure_venv(venv)
    why: list[str] = []
    options: UvOptions | None = None
    if environ.get("MLOPS_INSTALLER", "") == "pip":
        why.append("MLOPS_INSTALLER=pip")
    else:
        try:
            options = uv_options(pip_settings(venv))
        except NoUvEquivalentError as e:
            why.append(str(e))
    uv = find_uv(venv, why) if options is not None else None
    if uv is not None and options is not None:
        command = [str(uv), "pip", "install", "--quiet", "--python", str(python)]
        # Every lock line carries its hashes and the lock holds every dependency, so uv checks
        # each download (its default) and resolves nothing else (--no-deps): pip's
        # --require-hashes, which uv would also apply to pip's constraint files (unpinned).
        command += ["--no-deps", "--index-strategy", "unsafe-best-match"]
        command += [*options.args, "-r", str(lock)]
        print(f">> installing {lock.name} with uv {UV_VERSION}", flush=True)
        # uv with arguments built here from the lock and pip's own settings
        result = subprocess.run(command, env={**environ, **options.env}, check=False)  # noqa: S603
        if result.returncode == 0:
            return 0
        why.append(f"uv exited {result.returncode}")
    print(f">> installing {lock.name} with pip ({'; '.join(why)})", flush=True)
    try:
        ensure_pip(python)
    except subprocess.CalledProcessError as e:
        print(
            f"error: {venv} has no pip and `python -m ensurepip` failed (exit {e.returncode}): "
            "install your Python's venv/ensurepip support, or put uv "
            f"{UV_VERSION} on PATH",
            file=sys.stderr,
        )
        return 1
    command = [str(python), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(lock)]
    return subprocess.run(command, check=False).returncode  # noqa: S603 - the venv's pip


def compile_locks(venv: Path) -> int:
    """``make lock``: requirements*.txt -> the hash-pinned locks (all platforms, Python 3.11+);
    the dev lock is constrained by the synth lock, so both install the same versions."""
    why: list[str] = []
    ensure_venv(venv)
    uv = find_uv(venv, why)
    if uv is None:
        print(f"error: make lock needs uv {UV_VERSION}: {'; '.join(why)}", file=sys.stderr)
        return 1
    base = [str(uv), "pip", "compile", "--quiet", "--generate-hashes", "--universal"]
    base += ["--python-version", "3.11", "--custom-compile-command", "make lock"]
    synth, dev = (PROJECT_DIR / LOCKS[name] for name in LOCKS)
    steps = [
        [*base, str(PROJECT_DIR / "requirements.txt"), "-o", str(synth)],
        [*base, str(PROJECT_DIR / "requirements-dev.txt"), "-c", str(synth), "-o", str(dev)],
    ]
    for step, (source, lock) in zip(steps, LOCKS.items(), strict=True):
        print(f">> uv pip compile {source} -> {lock}", flush=True)
        result = subprocess.run(step, cwd=PROJECT_DIR, check=False)  # noqa: S603 - uv, built here
        if result.returncode:
            return result.returncode
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path(".venv"))
    parser.add_argument("--lock", type=Path, help="the lock file to install")
    parser.add_argument("--compile", action="store_true", help="regenerate the locks")
    args = parser.parse_args(argv)
    if args.compile:
        return compile_locks(args.venv)
    if args.lock is None:
        parser.error("--lock or --compile is required")
    return install(args.venv, args.lock)


if __name__ == "__main__":
    sys.exit(main())
