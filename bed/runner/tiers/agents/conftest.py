"""Fixtures of the agent tier: the shim's admin API, and the turns of the whole session, started
side by side as soon as the session knows which cells it runs (see turns.py).

The tier runs inside the bed-agents image (the runner plus the agent clients in /opt/bed-agents),
on the bed network, with the environment of the ND tier (see ../conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from turns import Pool, Shim


@pytest.fixture(scope="session")
def shim(shim_base: str) -> Shim:
    admin = Shim(shim_base)
    problem = admin.reachable()
    if problem:
        pytest.fail(f"the shim at {admin.root} has no journal ({problem}); the agent tier needs a shim "
                    "with /_bed/journal and /_bed/scripts", pytrace=False)
    return admin


@pytest.fixture(scope="session")
def turns(request: pytest.FixtureRequest, shim: Shim, proxy_url: str, master_key: str,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pool]:
    """Every selected cell's turn, started at once on a bounded pool (an xdist worker starts each
    when its test asks: it cannot know which tests are its own)."""
    pool = Pool(shim, proxy_url, master_key, tmp_path_factory.mktemp("turns"))
    try:
        cells = [item.callspec.params["cell"] for item in request.session.items
                 if hasattr(item, "callspec") and "cell" in item.callspec.params]
        if not hasattr(request.config, "workerinput"):
            pool.start(cells)
        yield pool
    finally:
        pool.close()
