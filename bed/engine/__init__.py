"""The container engine behind one seam: the Protocol, the docker adapter, the labels, a fake."""

from __future__ import annotations

from .protocol import GONE, ContainerInfo, ContainerSpec, Engine, EngineInfo, ExecResult, ImageInfo, State

__all__ = ["GONE", "ContainerInfo", "ContainerSpec", "Engine", "EngineInfo", "ExecResult", "ImageInfo", "State"]
