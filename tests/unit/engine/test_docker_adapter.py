"""The one boundary where docker's errors become bed's."""

from __future__ import annotations

import docker.errors
import pytest
import requests

from bed.engine.docker import DockerEngine, _mapped, connect
from bed.errors import ContainerGone, EngineError


@pytest.mark.parametrize(("raised", "expected", "says"), [
    (docker.errors.NotFound("gone"), ContainerGone, "no longer on the engine"),
    (docker.errors.APIError("refused"), EngineError, "the engine refused to list containers"),
    (requests.ConnectionError("reset"), EngineError, "lost the engine"),
    (OSError("broken pipe"), EngineError, "lost the engine"),
])
def test_errors_are_mapped(raised: Exception, expected: type[Exception], says: str) -> None:
    with pytest.raises(expected) as caught, _mapped("list containers"):
        raise raised
    assert says in caught.value.line()  # type: ignore[attr-defined]
    assert "Hint:" in caught.value.line()  # type: ignore[attr-defined]


def test_no_engine_is_one_line() -> None:
    with pytest.raises(EngineError) as caught:
        connect({"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert caught.value.line().startswith("ENGINE_ERROR: no Docker engine answers at unix:///nonexistent/docker.sock")


def test_only_the_adapter_imports_docker() -> None:
    import pathlib

    package = pathlib.Path(DockerEngine.__module__.replace(".", "/")).parts[0]
    root = pathlib.Path(__file__).resolve().parents[3] / package
    importers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                       if any(line.startswith(("import docker", "from docker", "import requests", "from requests",
                                               "from testcontainers"))
                              for line in p.read_text().splitlines()))
    # The one exception: the peers bench's "plain testcontainers" peer is MEANT to be testcontainers
    # used as is, with its defaults, so it must not go through bed's seam.
    assert importers == ["bench/testcontainers_peer.py", "engine/docker.py"]
