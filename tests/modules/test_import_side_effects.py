"""Importing the toolkit has no side effects: ``modules.core`` works without Node.

``runtime.prepare()`` (Node 22, the lazy provider packages, the slim-assembly loader) runs only
when an entry point calls it. A fresh interpreter imports ``modules``, ``modules.core`` and
``modules.core.config`` (and loads a config) and then reports which jsii/cdktf modules it
holds, whether a slim loader sits on ``sys.meta_path``, and its descendant processes (read from
/proc). The control run imports cdktf after ``prepare()`` and must show both a jsii module and a
Node process, so the probe can see what it looks for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import EXAMPLE_CONFIG, ROOT

PROBE = """
import json, os, sys
from pathlib import Path

def descendants(pid):
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm = text[text.index("(") + 1 : text.rindex(")")]
        ppid = int(text[text.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append((int(stat.parent.name), comm))
    out, todo = [], [pid]
    while todo:
        for child, comm in children.get(todo.pop(), []):
            out.append(comm)
            todo.append(child)
    return out

{body}
loaded = sorted(
    m for m in sys.modules
    if m.split(".")[0] in {"jsii", "cdktf", "constructs"} or m.startswith("cdktf_cdktf_provider")
)
print(json.dumps({
    "loaded": loaded,
    "slim_loader": any(type(f).__name__ == "SlimLoader" for f in sys.meta_path),
    "jsii_node_set": "JSII_NODE" in os.environ,
    "processes": descendants(os.getpid()),
}))
"""


def _probe(body: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.replace("{body}", body)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_importing_modules_core_and_its_config_loads_no_cdktf_and_starts_no_node() -> None:
    body = (
        "import modules, modules.core, modules.core.config\n"
        "from modules.core.config import load_config\n"
        f"load_config({str(EXAMPLE_CONFIG)!r})\n"
        "import modules.core.naming, modules.core.version, modules.core.template_contract\n"
    )
    report = _probe(body)
    assert report == {
        "loaded": [],
        "slim_loader": False,
        "jsii_node_set": False,
        "processes": [],
    }


def test_the_probe_sees_cdktf_and_node_once_an_entry_point_prepares_and_imports() -> None:
    body = "from modules import runtime\nruntime.prepare()\nimport cdktf\ncdktf.App()\n"
    report = _probe(body)
    assert "cdktf" in report["loaded"] and "jsii" in report["loaded"]  # type: ignore[operator]
    assert report["slim_loader"] is True
    assert report["jsii_node_set"] is True
    assert "node" in report["processes"]  # type: ignore[operator]
