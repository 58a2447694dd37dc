from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from bed.config import gateway as config_gateway
from bed.config.gateway import PINNED, Gateway
from bed.errors import ConfigError, ImageError
from bed.images import gateway as _gateway
from bed.images.build import PACKAGE as SOURCE
from bed.images.build import digest as _digest
from bed.images.gateway import ImageFacts

# ---- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "value"), [
    (None, PINNED), ("", PINNED), ("1.106.12", "1.106.12"), ("litellm==1.90.7", "1.90.7"), ("v1.80.17", "1.80.17"),
    ("1.77.2.post1", "1.77.2.post1"), ("1.97.0rc1", "1.97.0rc1"), ({"release": "1.100.5"}, "1.100.5"),
])
def test_a_release_is_a_version(raw: object, value: str, tmp_path: Path) -> None:
    assert Gateway.parse(raw, root=tmp_path) == Gateway("release", value)


@pytest.mark.parametrize("raw", ["image:registry.example/gw:1.2", {"image": "registry.example/gw:1.2"}])
def test_an_image_is_taken_by_reference(raw: object, tmp_path: Path) -> None:
    assert Gateway.parse(raw, root=tmp_path) == Gateway("image", "registry.example/gw:1.2")


def _checkout_dir(tmp_path: Path, name: str = "litellm-fork") -> Path:
    path = tmp_path / name
    (path / "litellm").mkdir(parents=True)
    (path / "litellm" / "__init__.py").write_text("")
    return path


@pytest.mark.parametrize("raw", ["path:litellm-fork", "./litellm-fork", {"path": "litellm-fork"}])
def test_a_path_is_resolved_from_the_project_root(raw: object, tmp_path: Path) -> None:
    fork = _checkout_dir(tmp_path)
    assert Gateway.parse(raw, root=tmp_path) == Gateway("path", str(fork))


def test_a_path_may_name_its_base_release(tmp_path: Path) -> None:
    _checkout_dir(tmp_path)
    parsed = Gateway.parse({"path": "litellm-fork", "base": "1.106.12"}, root=tmp_path)
    assert (parsed.kind, parsed.base, parsed.release) == ("path", "1.106.12", "1.106.12")


@pytest.mark.parametrize(("raw", "says"), [
    ("latest", "'latest' is not a litellm release"),
    ("1.108", "'1.108' is not a litellm release"),
    (42, "is a int, not a release"),
    ({}, "has no keys; it takes exactly one of path, image or release"),
    ({"path": "x", "image": "y"}, "has image, path; it takes exactly one"),
    ({"image": ""}, "image must be a non-empty string"),
    ({"image": "gw 1"}, "is empty or has spaces"),
    ({"path": "missing"}, "is not a folder"),
    ({"path": "."}, "has no litellm/__init__.py"),
    ({"path": "litellm-fork", "base": "main"}, "'main' is not a litellm release"),
])
def test_bad_input_is_one_config_error_line_with_a_hint(raw: object, says: str, tmp_path: Path) -> None:
    _checkout_dir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        Gateway.parse(raw, root=tmp_path, where="[tool.bed] litellm")
    line = caught.value.line()
    assert says in line
    assert line.startswith("CONFIG_ERROR: [tool.bed] litellm")
    assert " Hint: " in line
    assert "\n" not in line


def test_describe_says_where_a_release_comes_from() -> None:
    assert "committed lock" in Gateway("release", PINNED).describe()
    assert "resolved when its image is built" in Gateway("release", "1.90.7").describe()
    fork = Gateway("path", "/src/litellm", base="1.108.7", commit="a" * 40, dirty=True, untracked=2)
    assert fork.describe() == ("the fork at /src/litellm @ aaaaaaaaaaaa (dirty, 2 untracked file(s) included), "
                               "over litellm[proxy]==1.108.7")


# ---- a fork's checkout ------------------------------------------------------------------------


def _git(path: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(path), "-c", "user.email=t@bed", "-c", "user.name=t", *args],
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def fork(tmp_path: Path) -> Path:
    path = _checkout_dir(tmp_path)
    (path / "pyproject.toml").write_text('[project]\nname = "litellm"\nversion = "1.108.7"\n')
    (path / "litellm" / "main.py").write_text("ANSWER = 1\n")
    (path / "litellm" / "gone.py").write_text("")
    (path / "docs.md").write_text("not built in\n")
    (path / ".gitignore").write_text("*.log\nbuild/\n")
    _git(path, "init", "-q")
    _git(path, "add", "-A")
    _git(path, "commit", "-qm", "fork")
    return path


def test_a_clean_checkout_builds_its_tracked_package_at_its_commit(fork: Path) -> None:
    tree = config_gateway.checkout(Gateway("path", str(fork)))
    assert tree.files == ("litellm/__init__.py", "litellm/gone.py", "litellm/main.py")
    assert tree.gateway.commit == _git(fork, "rev-parse", "HEAD").strip()
    assert (tree.gateway.dirty, tree.gateway.untracked, tree.gateway.base) == (False, 0, "1.108.7")


def test_a_modified_tracked_file_makes_the_tree_dirty(fork: Path) -> None:
    (fork / "litellm" / "main.py").write_text("ANSWER = 2\n")
    assert config_gateway.checkout(Gateway("path", str(fork))).gateway.dirty


def test_a_change_outside_the_package_still_makes_it_dirty(fork: Path) -> None:
    (fork / "docs.md").write_text("edited\n")
    tree = config_gateway.checkout(Gateway("path", str(fork)))
    assert tree.gateway.dirty
    assert "docs.md" not in tree.files


def test_untracked_files_are_built_in_and_counted_but_ignored_ones_are_not(fork: Path) -> None:
    (fork / "litellm" / "new_module.py").write_text("")
    (fork / "litellm" / "debug.log").write_text("ignored\n")
    (fork / "litellm" / "__pycache__").mkdir()
    (fork / "litellm" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    tree = config_gateway.checkout(Gateway("path", str(fork)))
    assert "litellm/new_module.py" in tree.files
    assert "litellm/debug.log" not in tree.files
    assert not any("__pycache__" in f for f in tree.files)
    assert (tree.gateway.dirty, tree.gateway.untracked) == (True, 1)


def test_a_deleted_tracked_file_is_not_built_in(fork: Path) -> None:
    (fork / "litellm" / "gone.py").unlink()
    tree = config_gateway.checkout(Gateway("path", str(fork)))
    assert "litellm/gone.py" not in tree.files
    assert tree.gateway.dirty


def test_the_base_release_is_the_forks_version_without_its_local_label(fork: Path) -> None:
    (fork / "pyproject.toml").write_text('[tool.poetry]\nname = "litellm"\nversion = "1.106.12+acme.3"\n')
    assert config_gateway.checkout(Gateway("path", str(fork))).gateway.base == "1.106.12"
    assert config_gateway.checkout(Gateway("path", str(fork), base="1.90.7")).gateway.base == "1.90.7"


def test_a_fork_without_a_plain_version_needs_a_base(fork: Path) -> None:
    (fork / "pyproject.toml").write_text('[project]\nname = "litellm"\ndynamic = ["version"]\n')
    with pytest.raises(ConfigError, match="declares no plain version") as caught:
        config_gateway.checkout(Gateway("path", str(fork)))
    assert 'base = "1.108.7"' in caught.value.line()


def test_a_folder_that_is_not_a_git_work_tree_is_refused(tmp_path: Path) -> None:
    path = _checkout_dir(tmp_path, "plain")
    with pytest.raises(ConfigError, match="is not a git work tree"):
        config_gateway.checkout(Gateway("path", str(path)))


def test_a_folder_inside_a_repository_but_not_its_top_is_refused(fork: Path) -> None:
    inner = _checkout_dir(fork, "vendor")
    with pytest.raises(ConfigError, match=r"not at its top \(vendor\)"):
        config_gateway.checkout(Gateway("path", str(inner)))


# ---- the build context and its hash ---------------------------------------------------------------


def test_the_pinned_release_installs_the_committed_lock() -> None:
    context = _gateway.plan(Gateway("release", PINNED), SOURCE).context
    assert context["gateway/requirements.lock"] == (SOURCE / "images/context/litellm/requirements.lock").read_bytes()
    assert "gateway/requirements.in" not in context
    assert b"fork/" not in context["Dockerfile"]


def test_another_release_is_resolved_at_build_time() -> None:
    context = _gateway.plan(Gateway("release", "1.90.7"), SOURCE).context
    assert context["gateway/requirements.in"] == b"litellm[proxy]==1.90.7\ngoogle-auth\n"  # as the lock adds it
    assert "gateway/requirements.lock" not in context


def test_the_tag_is_stable_and_follows_the_release_and_the_parent() -> None:
    def tag(version: str, parent: str = "sha256:p") -> str:
        return _digest(_gateway.plan(Gateway("release", version), SOURCE).context, parent)

    assert tag("1.90.7") == tag("1.90.7")
    assert tag("1.90.7") != tag("1.80.17")
    assert tag("1.90.7") != tag("1.90.7", "sha256:other")
    assert tag(PINNED) != tag("1.90.7")


def test_a_forks_context_is_its_package_over_its_base_and_its_tag_follows_content_only(fork: Path) -> None:
    first = _gateway.plan(Gateway("path", str(fork)), SOURCE)
    assert first.context["fork/litellm/main.py"] == b"ANSWER = 1\n"
    assert "fork/docs.md" not in first.context
    assert "gateway/requirements.lock" in first.context  # its version is the pinned one
    dockerfile = first.context["Dockerfile"].decode()
    assert dockerfile.startswith((SOURCE / "images/context/litellm/Dockerfile").read_text())
    assert "COPY fork/litellm /opt/venv/lib/python3.11/site-packages/litellm" in dockerfile
    assert f'bed.gateway.commit="{first.gateway.commit}"' in dockerfile
    tag = _digest(first.context, "p")
    (fork / "litellm" / "main.py").touch()  # a new mtime, the same content
    assert _digest(_gateway.plan(Gateway("path", str(fork)), SOURCE).context, "p") == tag
    (fork / "litellm" / "main.py").write_text("ANSWER = 2\n")
    changed = _gateway.plan(Gateway("path", str(fork)), SOURCE)
    assert changed.gateway.dirty
    assert _digest(changed.context, "p") != tag


def test_an_image_needs_no_build_context() -> None:
    assert _gateway.plan(Gateway("image", "gw:1"), SOURCE).context == {}


# ---- a failed build, read --------------------------------------------------------------------------

# As the legacy builder streams uv's stderr: colour codes around every piece.
UV_MISSING_PACKAGE = [
    "bed: installing the gateway from requirements.in: 1 requirement(s)",
    "\x1b[91merror\x1b[0m\x1b[91m: No solution found when resolving dependencies",
    "\x1b[0m\x1b[91m  \x1b[0m\x1b[91mcause\x1b[0m\x1b[91m:\x1b[0m\x1b[91m Because litellm-proxy was not found in the "
    "package registry and litellm[proxy]>=1.110.2 depends on litellm-proxy==1.110.2, we can conclude that "
    "litellm[proxy]>=1.110.2 cannot be used.\x1b[0m\x1b[91m",
    "The command '/bin/sh -c sh /tmp/bed-gateway/install.sh' returned a non-zero code: 1",
]
UV_MISSING_VERSION = [
    "  cause: Because there is no version of litellm-proxy-extras==0.4.113 and litellm[proxy]==1.109.3 depends on "
    "litellm-proxy-extras==0.4.113, we can conclude that litellm[proxy]==1.109.3 cannot be used.",
]
UV_NO_RELEASE = [
    "  cause: Because only litellm<=1.110.2 is available and you require litellm[proxy]==9.9.9, we can conclude ...",
]
PIP_MISSING = [
    "ERROR: Could not find a version that satisfies the requirement litellm-proxy==1.110.2 (from litellm[proxy]) "
    "(from versions: none)",
]


@pytest.mark.parametrize(("lines", "requirement"), [
    (UV_MISSING_PACKAGE, "litellm-proxy==1.110.2"),
    (UV_MISSING_VERSION, "litellm-proxy-extras==0.4.113"),
    (UV_NO_RELEASE, "litellm[proxy]==9.9.9"),
    (PIP_MISSING, "litellm-proxy==1.110.2"),
    (["Step 3/7 : RUN sh /tmp/bed-gateway/install.sh", "some other failure"], None),
])
def test_the_unresolvable_requirement_is_read_from_the_build_output(lines: list[str],
                                                                    requirement: str | None) -> None:
    assert _gateway.unresolvable(lines) == requirement


def test_an_unresolvable_release_is_an_image_error_naming_the_requirement() -> None:
    error = _gateway.build_failure(Gateway("release", "1.110.2"), UV_MISSING_PACKAGE)
    assert isinstance(error, ImageError)
    assert error.line().startswith("IMAGE_ERROR: litellm[proxy]==1.110.2 cannot be installed: "
                                   "litellm-proxy==1.110.2 cannot be resolved")
    assert "\x1b" not in error.details


def test_an_unresolvable_fork_base_hints_at_naming_a_base() -> None:
    fork = Gateway("path", "/src/litellm", base="1.109.0.dev1", commit="c" * 40)
    error = _gateway.build_failure(fork, UV_NO_RELEASE)
    assert error is not None
    assert 'base = "1.108.7"' in error.line()


def test_an_unreachable_index_hints_at_the_ca_bundle() -> None:
    lines = ["error: Failed to fetch: `https://pypi.org/simple/litellm/`", "  Caused by: invalid peer certificate"]
    error = _gateway.build_failure(Gateway("release", "1.90.7"), lines)
    assert error is not None
    assert "BED_CA_BUNDLE" in error.line()
    assert _gateway.build_failure(Gateway("release", "1.90.7"), ["Step 1/9 : FROM x", "exit 1"]) is None


# ---- freezes ------------------------------------------------------------------------------------------


def test_freezes_parse_and_diff_by_normalised_name() -> None:
    old = _gateway.parse_freeze("# by uv\nFastAPI==0.136.3\nlitellm==1.97.0\npydantic_core==2.50.5\nuvloop==0.22\n")
    new = _gateway.parse_freeze("fastapi==0.165.0\nlitellm @ file:///tmp/wheel\npydantic-core==2.50.5\nh2==4.4.1\n")
    assert old["fastapi"] == "0.136.3"
    assert _gateway.diff_freezes(old, new) == {
        "fastapi": ("0.136.3", "0.165.0"), "h2": (None, "4.4.1"),
        "litellm": ("1.97.0", "file:///tmp/wheel"), "uvloop": ("0.22", None),
    }


# ---- an existing image ----------------------------------------------------------------------------------

PROBE_VENV = ('BED-PROBE {"python": "/app/.venv/bin/python3", "prefix": "/app/.venv", "base_prefix": "/usr", '
              '"version": "3.11.2", "pip": true, "ensurepip": true, "litellm": "1.80.17", '
              '"litellm_file": "/app/.venv/lib/python3.11/site-packages/litellm/__init__.py"}')


def test_the_probe_line_becomes_facts_or_a_reason() -> None:
    facts = _gateway.parse_probe("noise\n" + PROBE_VENV + "\n")
    assert isinstance(facts, ImageFacts)
    assert (facts.python, facts.litellm, facts.in_venv) == ("/app/.venv/bin/python3", "1.80.17", True)
    missing = ('BED-PROBE {"python": "/usr/bin/python3", "prefix": "/usr", "base_prefix": "/usr", "version": "3.11.2",'
               ' "pip": false, "ensurepip": false, "error": "PackageNotFoundError: litellm"}')
    assert _gateway.parse_probe(missing) == "/usr/bin/python3 cannot import litellm (PackageNotFoundError: litellm)"
    assert _gateway.parse_probe("python: not found") == "it printed no probe line"


def _facts(**changes: object) -> ImageFacts:
    facts = _gateway.parse_probe(PROBE_VENV)
    assert isinstance(facts, ImageFacts)
    return ImageFacts(**{**facts.__dict__, **changes})


def test_the_runner_adapter_points_opt_venv_at_the_images_interpreter() -> None:
    venv = _gateway.runner_adapter(_facts(), "gw:1").decode()
    assert "os.symlink('/app/.venv', '/opt/venv')" in venv
    system = _gateway.runner_adapter(_facts(python="/usr/local/bin/python3", prefix="/usr/local",
                                            base_prefix="/usr/local"), "gw:1").decode()
    assert "os.symlink('/usr/local/bin/python3', '/opt/venv/bin/python')" in system
    assert "ensurepip" not in system
    no_pip = _gateway.runner_adapter(_facts(pip=False), "gw:1").decode()
    assert 'RUN ["/app/.venv/bin/python3", "-m", "ensurepip"]' in no_pip


def test_an_image_without_pip_or_ensurepip_cannot_get_a_runner() -> None:
    with pytest.raises(ImageError, match="neither pip nor ensurepip") as caught:
        _gateway.runner_adapter(_facts(pip=False, ensurepip=False), "gw:1")
    assert "gw:1 has litellm 1.80.17 at /app/.venv/bin/python3" in caught.value.line()


def test_the_proxy_in_an_image_runs_with_its_own_interpreter() -> None:
    assert _gateway.proxy_command(_facts(), "/etc/bed/router.yaml", 4000)[:5] == [
        "/app/.venv/bin/python3", "-m", "litellm.proxy.proxy_cli", "--config", "/etc/bed/router.yaml"]


# ---- the proxy-side provider ------------------------------------------------------------------------------


def test_the_provider_map_names_an_instance_the_provider_module_defines() -> None:
    from bed.config.router import PROVIDER, PROVIDER_HANDLER
    from bed.stack.bringup import providers

    module, instance = PROVIDER_HANDLER.split(".")
    files = providers()
    tree = ast.parse(files[f"{module}.py"])
    assigned = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)}
    assert instance in assigned
    assert f'PROVIDER = "{PROVIDER}"' in files[f"{module}.py"].decode()
