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
    (requests.ConnectionError("reset"), EngineError, "lost the engine"),  # docker's transport: requests
    (requests.exceptions.ReadTimeout("read timed out"), EngineError, "lost the engine"),
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


def test_bed_never_imports_requests() -> None:
    # docker-py brings requests as its transport; bed catches its errors as OSError (they are)
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[3] / "bed"
    importers = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                       if any(line.lstrip().startswith(("import requests", "from requests"))
                              for line in p.read_text().splitlines()))
    assert importers == []
    assert issubclass(requests.RequestException, OSError)  # what _TRANSPORT relies on
    assert issubclass(docker.errors.APIError, OSError)  # why APIError is caught before OSError
