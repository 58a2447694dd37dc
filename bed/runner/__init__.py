"""Everything that goes into the runner image: the tiers' smokes, bed's pytest plugin, shards.

The modules here run inside the runner with the runner's own Python (stdlib and pytest only);
bed imports ``bed_shards`` and ``bed_records`` on the host too, so both sides agree on the
split of a tier and on the format of its records. The image puts this folder's modules on
PYTHONPATH and the tiers at /bed/tiers.
"""
