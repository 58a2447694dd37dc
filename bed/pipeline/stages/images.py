"""The images stage: the engine, and every image the run needs, each built only where its content
changed (or the report's very images, for a repro). Its output also carries the engine's cores,
which cap the pytest workers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ...engine.protocol import Engine
from ...images.build import ImageRef, Recipe, ensure_images
from ...policy import budgets
from ...tiers.command import Context
from .prepare import Inputs, Prepared


@dataclasses.dataclass(frozen=True)
class Built:
    engine: Engine
    images: Mapping[str, ImageRef]
    ctx: Context  # the prepared context, with the engine's cores


def build(inputs: Inputs, prepared: Prepared) -> Built:
    config, console = inputs.config, inputs.console
    engine = inputs.connect()
    images = dict(inputs.given_images or ensure_images(engine, Recipe.of(config), console))
    if inputs.observer is not None:
        inputs.observer.images(images)
    cpus = engine.info().cpus
    if config.workers is not None and budgets.workers(config.workers, cpus)[1]:
        console.step(f"PYTEST_XDIST_AUTO_NUM_WORKERS={config.workers} capped to {cpus}: the engine has {cpus} cores")
    return Built(engine, images, dataclasses.replace(prepared.ctx, cpus=cpus))
