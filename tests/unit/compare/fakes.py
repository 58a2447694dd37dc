"""A fake engine that knows which gateway each image holds, so a test can script each gateway's tiers."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable, Iterator, Mapping

from bed.config.gateway import PINNED
from bed.engine.fake import FakeEngine, Program
from bed.engine.protocol import ExecResult
from bed.images.gateway import FREEZE_PATH

from ..fakes import engine_with_images, tier_program

Tests = tuple[tuple[str, str], ...]  # (nodeid, outcome)


class GatewayEngine(FakeEngine):
    """Builds record which release (or fork) each proxy image holds; runners and freezes follow it."""

    def __init__(self, freezes: Mapping[str, str] | None = None) -> None:
        super().__init__(images=tuple(engine_with_images().stored))
        self.gateway_of: dict[str, str] = {}  # image tag or id -> release ("fork:<commit>" for a fork)
        self.freezes = dict(freezes or {})
        self.failing_builds: set[str] = set()  # releases whose proxy image fails to build

    def build(self, context: bytes, tag: str, buildargs: Mapping[str, str],
              labels: Mapping[str, str]) -> Iterator[str]:
        files = _files(context)
        if tag.startswith("bed-litellm:"):
            release = files.get("gateway/requirements.in", b"").decode().split("\n")[0].removeprefix("litellm[proxy]==")
            gateway = release or PINNED
            if any(name.startswith("fork/") for name in files):
                gateway = f"fork:{gateway}"
            if gateway in self.failing_builds:
                from bed.errors import ImageError

                yield "Because there is no version of litellm-proxy-extras==9.9.9 and ..."
                raise ImageError(f"building {tag} failed", hint="")
            self.gateway_of[tag] = gateway
        elif buildargs.get("BASE_IMAGE") in self.gateway_of:
            self.gateway_of[tag] = self.gateway_of[buildargs["BASE_IMAGE"]]
        yield from super().build(context, tag, buildargs, labels)
        info = self.stored[tag]
        if tag in self.gateway_of:
            self.gateway_of[info.id] = self.gateway_of[tag]

    def once(self, image: str, argv: list[str]) -> ExecResult:
        if argv == ["cat", FREEZE_PATH]:
            gateway = self.gateway_of.get(image, PINNED).removeprefix("fork:")
            return ExecResult(0, self.freezes.get(gateway, f"litellm=={gateway}\n"))
        return super().once(image, argv)

    def script(self, tier: str, per_gateway: Callable[[str], Program]) -> None:
        """The runner of ``tier`` runs per_gateway(gateway of its image) (instead of any earlier script)."""
        self._behaviours = [(f, b) for f, b in self._behaviours if f != f"runner-{tier}"]
        self.on(f"runner-{tier}", lambda spec: per_gateway(self.gateway_of.get(spec.image, PINNED)))


def tiers(engine: GatewayEngine, nd: Mapping[str, Tests], det: Tests = (("deterministic/test_a.py::test_a", "passed"),),
          ) -> None:
    """Every gateway's deterministic tier runs ``det``; its ND tier runs nd[gateway]."""
    engine.script("deterministic", lambda gw: tier_program(*det))
    engine.script("nd", lambda gw: tier_program(*nd[gw]))
    engine.script("release", lambda gw: tier_program(("release/test_live.py::test_live[openai]", "skipped")))
    engine.script("agents", lambda gw: tier_program(("agents/test_agent.py::test_codex", "passed")))


def _files(context: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(context)) as archive:
        for member in archive.getmembers():
            handle = archive.extractfile(member)
            if handle is not None and (member.name.startswith(("gateway/", "fork/"))):
                out[member.name] = handle.read()
    return out

