"""Where things live inside bed's containers: the paths and ports the images are built for and the
stack relies on (the images and the stack both read them here, neither from the other)."""

from __future__ import annotations

ROUTER_PATH = "/etc/bed/router.yaml"  # the proxy's router config (bed's provider modules sit beside it)
VENV_PYTHON = "/opt/venv/bin/python"  # the interpreter of the gateway, runner and probe images
PROXY_PORT = 4000  # the proxy's port inside its container
