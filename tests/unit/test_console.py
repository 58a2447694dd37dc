"""The console's labelled children: the lines of jobs side by side, each whole and prefixed."""

from __future__ import annotations

import io
import threading

from bed.console import Console
from bed.redact import Redactor


def test_labelled_lines_are_prefixed_whole_and_never_mixed() -> None:
    out = io.StringIO()
    parent = Console(out=out, redact=Redactor(["sk-parent-secret"]), tty=True)
    children = [parent.labelled(name) for name in ("1.100.5", "1.108.7")]

    def talk(console: Console, name: str) -> None:
        for i in range(200):
            console.stream("all_smokes_nd", f"{name} line {i} with sk-parent-secret")

    threads = [threading.Thread(target=talk, args=(c, n)) for c, n in zip(children, ("a", "b"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    children[0].banner("BROKEN", ["first", "second"])
    lines = out.getvalue().splitlines()
    assert len(lines) == 400 + 5  # the banner: two rules, the title, two lines
    assert sum(line.startswith("[1.100.5]   all_smokes_nd | a line ") for line in lines) == 200
    assert sum(line.startswith("[1.108.7]   all_smokes_nd | b line ") for line in lines) == 200
    assert all(line.endswith("with ***") for line in lines[:400])
    assert lines[-4:-1] == ["[1.100.5] !! BROKEN", "[1.100.5] !!   first", "[1.100.5] !!   second"]


def test_a_childs_secret_stays_the_childs() -> None:
    out = io.StringIO()
    parent = Console(out=out)
    child = parent.labelled("leg")
    child.redact.add("sk-leg-master-key")
    child.plain("key sk-leg-master-key")
    parent.plain("key sk-leg-master-key")
    assert out.getvalue().splitlines() == ["[leg] key ***", "key sk-leg-master-key"]
