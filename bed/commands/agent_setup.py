"""What `bed up` prints for each agent client: the exact environment and config files that point
it at the kept stack, so a developer reproduces a turn by hand with the agent installed from npm.

The lines come from the same contract the agent tier drives (bed/runner/bed_agents.py), at the
kept proxy's loopback port, for the route each agent takes natively (bed.config.agent_routes).
The config files are written into ``.artifacts/agents/<agent>/`` (a private HOME and working
folder, so a person's own agent settings are left alone); the key is never written or printed:
the lines read it from ``$LITELLM_MASTER_KEY``, which the export lines above set.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from ..config import agent_routes
from ..config.clients import AgentVersions
from ..runner.bed_agents import CLIENTS

KEY = "$LITELLM_MASTER_KEY"  # expanded by the shell that runs the printed line


def lines(versions: AgentVersions, router_yaml: str, group: str, proxy: str, folder: Path) -> list[str]:
    """``#``-prefixed lines (the output stays eval-safe), one block per agent; writes the files."""
    routes = agent_routes.from_yaml(router_yaml, group)
    out = ["# The agents, pointed at this stack (each writes nothing outside its folder below):"]
    for name, client in CLIENTS.items():
        picked = versions.versions(name)
        route = next((r for r in routes if r.surface == client.surface and not r.skip), None)
        if not picked or route is None:
            continue
        home, work = folder / name / "home", folder / name / "work"
        setup = client.setup(gateway=proxy, key=KEY, group=route.group, home=home, work=work)
        setup.write()
        for made in (home, work):
            made.mkdir(parents=True, exist_ok=True)
        env = " ".join(f'{k}="{v}"' if v == KEY else f"{k}={shlex.quote(v)}" for k, v in
                       {"HOME": str(home), **setup.env}.items())
        argv = shlex.join(client.argv(client.command, "Say hello.", route.group, home))
        out += [f"# {client.title} (npm install -g {client.npm}@{picked[0]}), {route.surface} through the "
                f"{route.route} route ({route.group}):",
                f"#   cd {shlex.quote(str(work))} && {env} {argv}"]
        for path, content in setup.files.items():
            out += [f"#   {path}:", *(f"#     {line}" for line in _compact(content).splitlines())]
    return out


def _compact(content: str) -> str:
    """A JSON file on one line (as exact, and short); any other file as it is."""
    try:
        return json.dumps(json.loads(content))
    except ValueError:
        return content
