"""The images bed builds, looked at from inside."""

from __future__ import annotations

import json

import docker

from bed.images.build import ImageRef

# Run in the litellm image: the ELF section names of a few native extensions, and whether the
# libraries strip.sh must leave alone (auditwheel's, rewritten by patchelf) still load and work.
PROBE = r'''
import glob, json, mmap, struct
def sections(path):
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as elf:
        shoff, = struct.unpack_from("<Q", elf, 0x28)
        size, count, names_at = struct.unpack_from("<HHH", elf, 0x3A)
        def header(i):
            return struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * size)
        table = header(names_at)[4]
        return sorted(elf[table + n:elf.find(b"\0", table + n)].decode() for n, *_ in map(header, range(count)))
site = "/opt/venv/lib/python3.11/site-packages"
found = {name: sections(glob.glob(f"{site}/{pattern}")[0]) for name, pattern in {
    "polars": "_polars_runtime*/_polars_runtime*.so", "uvloop": "uvloop/loop.*.so",
    "openblas": "numpy.libs/libscipy_openblas*.so"}.items()}
import numpy, polars
found["numpy works"] = float(numpy.linalg.inv(numpy.eye(3) * 2).sum())
found["polars works"] = int(polars.DataFrame({"a": [1, 2]})["a"].sum())
import os
pruned = [os.path.relpath(os.path.join(d, n), site) for d, dirs, files in os.walk(site)
          for n in dirs + files if n in ("tests", "test") and os.path.isdir(os.path.join(d, n))
          or n.endswith((".pyi", ".h", ".c", ".pxd", ".pyx"))]
found["left"] = sorted(pruned)
print(json.dumps(found))
'''


def test_the_gateways_native_extensions_carry_no_debug_symbols_nor_its_dependencies_tests_and_still_work(
        client: docker.DockerClient, images: dict[str, ImageRef]) -> None:
    out = client.containers.run(images["litellm"].tag, ["/opt/venv/bin/python", "-c", PROBE], remove=True,
                                network_mode="none").decode()
    found = json.loads(out.strip().splitlines()[-1])
    for name in ("polars", "uvloop"):  # 43 MB and 12 MB of debug symbols in their wheels
        assert ".symtab" not in found[name], name
        assert not [s for s in found[name] if s.startswith(".debug")], name
        assert ".dynsym" in found[name], name  # what the loader reads stays
    assert found["numpy works"] == 1.5  # its OpenBLAS (patchelf'd by auditwheel) was left alone
    assert found["polars works"] == 3
    # prune.sh: the dependencies' test suites, stubs and C sources are gone; the gateway's own files stay
    assert [p for p in found["left"] if not p.startswith("litellm")] == []
    assert "litellm/rust_bridge/_native.pyi" in found["left"]
