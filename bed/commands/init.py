"""`bed init`: set a repository up for bed, and say what it wrote and what it left alone.

It writes, from the templates in ``init_templates/``:

    settings   a [tool.bed] table appended to pyproject.toml (every byte before it kept), or bed.toml
               when there is no pyproject.toml (or bed.toml is already what bed reads)
    Makefile   bed's targets, appended as one marked block; a target you wrote is never touched. It
               calls the `bed` you have (an active venv's, the project's .venv, PATH: pipx, uv tool)
    suite      an example readiness suite (tests/readiness/ unless --suite-dir)
    CI         .github/workflows/readiness.yml and .github/pull_request_template.md (GitHub), and/or
               .gitlab-ci.yml (GitLab; .gitlab/bed.gitlab-ci.yml to include when you have your own),
               each installing the bed you have (bed/commands/init_source.py): from a wheel vendored
               into .bed/, a VCS or archive URL, or the package index; --install names another

It never replaces what it did not write, ``--force`` or not: each file (and the [tool.bed] table)
carries a first line with a digest (bed/commands/init_files.py); only a file of bed's that nobody
changed since is rewritten by ``--force``. Everything is planned in memory first and checked (each
file can be written) before anything is written, each file atomically: bad input is one
CONFIG_ERROR / ARTIFACT_ERROR line and nothing is written. A write that still fails reports what
came before it.
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions

from .. import __version__
from ..config.paths import read_bounded
from ..console import Console
from ..errors import EXIT_READY, ArtifactError, ConfigError
from ..report.writers import write_text
from . import init_source
from .init_files import Render, Step, launcher, mark_line, marked, owner, table_digest, table_owner, wheel_step

HELP = "set this repository up for bed: [tool.bed], make targets, an example suite, CI that installs your bed"

DEFAULT_SUITE = "tests/readiness"
TARGETS = ("project-ready-core-only-with-docker", "dev-gate")
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")  # the order GNU make looks for them
BLOCK_START = "# >>> bed:"
BLOCK_END = "# <<< bed <<<"
SUITE_FILES = ("README.md", "conftest.py", "test_readiness_router.py", "test_readiness_gateway.py")
WORKFLOW = ".github/workflows/readiness.yml"
PR_TEMPLATE = ".github/pull_request_template.md"
GITLAB = ".gitlab-ci.yml"
GITLAB_INCLUDED = ".gitlab/bed.gitlab-ci.yml"  # bed's jobs, when .gitlab-ci.yml is yours
CI_KINDS = ("github", "gitlab")
# Where GitHub looks for a pull request template; with one already there, a second would not be used.
PR_TEMPLATE_PLACES = ("", ".github", "docs")
MAX_FILE = 1024 * 1024
# A rule's target(s): a line that is not a recipe, comment or assignment, up to its first ':'.
_RULE = re.compile(r"^(?![\t #.])([^:=#\n]+?)[ \t]*::?(?![:=])", re.MULTILINE)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", nargs="?", default=".", metavar="PATH", help="the repository (default: here)")
    parser.add_argument("--suite-dir", default=DEFAULT_SUITE, metavar="DIR",
                        help=f"where the example suite goes, inside the repository (default: {DEFAULT_SUITE})")
    parser.add_argument("--force", action="store_true",
                        help="rewrite bed's own files (and [tool.bed] table, Makefile block) that nobody changed "
                             "since bed init wrote them; a file you wrote or changed is never replaced")
    parser.add_argument("--install", metavar="WHAT",
                        help="how CI installs bed: a wheel file (copied into .bed/), a bed checkout (a wheel built "
                             "from it), or a pip requirement (git+https://...@tag, a URL, bed-readiness==X.Y.Z). "
                             "Default: found from how this bed was installed")
    parser.add_argument("--ci", default="auto", metavar="LIST",
                        help="CI files to write: github, gitlab, both (github,gitlab) or none; default auto "
                             "(GitLab when the repository shows it: .gitlab-ci.yml or a gitlab remote; else GitHub)")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    root = _root(args.root)
    suite = _suite_dir(root, args.suite_dir)
    kinds = ci_kinds(args.ci, root)
    fallback, found = launcher(root)
    # Every file bed init reads is read (and a bad one refused) before a wheel is built for CI.
    plan(root, suite, force=args.force, render=Render(suite, init_source.Install("", "not found yet"), fallback),
         ci=kinds)
    with console.progress("finding how this bed was installed (a checkout: building its wheel)"):
        install = (init_source.given(args.install, root, environ) if args.install is not None
                   else init_source.detect(environ) if kinds else init_source.Install("", "no CI files"))
    try:
        steps = plan(root, suite, force=args.force, render=Render(suite, install, fallback), ci=kinds)
    finally:
        install.discard()  # a built wheel is in its step now (or not needed)
    for step in steps:
        if step.writes:
            _preflight(root, step.path)
    # Write everything, then say so: output that cannot be printed (a closed pipe) must not
    # stop the writing half way; a write that fails still reports what was written before it.
    handled: list[Step] = []
    try:
        for step in steps:
            content = step.text if step.data is None else step.data
            if content is not None:
                _write(root, step.path, content)
            handled.append(step)
    finally:
        for step in handled:
            for line in step.says:
                console.plain(line)
    if kinds:
        index = f" (PIP_INDEX_URL={install.index_url})" if install.index_url else ""
        console.plain(f"install   CI runs: pip install '{install.requirement}'{index}; found: {install.how} "
                      "(--install names another)")
    console.plain(f"make      calls {found} (make BED=/path/to/bed overrides it)")
    if install.warning:
        console.banner("THE FIRST CI RUN MAY FAIL", [install.warning])
    if any(step.writes for step in steps):
        console.plain("next: `make project-ready-core-only-with-docker` runs the gate on your suite; "
                      "`bed env` shows the settings and where each comes from; commit what bed init wrote")
    else:
        console.plain("nothing written: everything bed init makes is already here")
    return EXIT_READY


def plan(root: Path, suite: str, *, force: bool, render: Render | None = None,
         ci: tuple[str, ...] = ("github",)) -> list[Step]:
    """Every file bed init would write or leave, in the order it reports them; nothing is written."""
    render = render or Render(suite, init_source.Install(f"{init_source.DIST}=={__version__}", "the package index"))
    wheel = wheel_step(root, render.install, force=force) if ci else None
    return [settings(root, render, force=force), makefile(root, render, force=force),
            *suite_files(root, render, force=force), *([wheel] if wheel else []),
            *(github_files(root, render, force=force) if "github" in ci else []),
            *(gitlab_files(root, render, force=force) if "gitlab" in ci else [])]


def ci_kinds(raw: str, root: Path) -> tuple[str, ...]:
    """--ci: the CI systems to write files for."""
    words = [w.strip().lower() for w in raw.split(",") if w.strip()]
    if words == ["none"]:
        return ()
    if words == ["both"]:
        return CI_KINDS
    if words == ["auto"]:
        return _auto_ci(root)
    bad = [w for w in words if w not in CI_KINDS]
    if bad or not words:
        raise ConfigError(f"--ci {raw!r}: {', '.join(bad) or 'nothing'} is not a CI bed init knows.",
                          hint="use github, gitlab, both, none or auto.")
    return tuple(k for k in CI_KINDS if k in words)


def _auto_ci(root: Path) -> tuple[str, ...]:
    """--ci auto: GitLab where the repository has .gitlab-ci.yml or a remote url at GitLab; GitHub where
    it has .github, "github" anywhere in its git config, or no sign of GitLab."""
    remote = root / ".git" / "config"
    remotes = remote.read_text(errors="replace") if remote.is_file() else ""
    gitlab = (root / GITLAB).exists() or re.search(r"^\s*url\s*=.*gitlab", remotes, re.MULTILINE) is not None
    github = (root / ".github").is_dir() or "github" in remotes or not gitlab
    return tuple(k for k, on in (("github", github), ("gitlab", gitlab)) if on)


# --- settings: [tool.bed] in pyproject.toml, or bed.toml ------------------------------------------

def settings(root: Path, render: Render, *, force: bool) -> Step:
    pyproject, standalone = root / "pyproject.toml", root / "bed.toml"
    body = render.text("bed_settings.toml")
    if pyproject.exists():  # a FIFO or a folder by that name is refused by the reader
        text = _read(pyproject)
        tool = _toml(pyproject, text).get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{pyproject}: `tool` is not a table, so it cannot hold [tool.bed].",
                              hint="make it a [tool] table, or move it and re-run bed init.")
        # bed reads [tool.bed] first and bed.toml only without it: a new table would hide bed.toml.
        if "bed" in tool or not standalone.exists():
            return _pyproject(pyproject, text, body, tool.get("bed"), force=force)
    return own_file(root, standalone, body, force=force)


def _pyproject(path: Path, text: str, body: str, table: Any, *, force: bool) -> Step:
    exists = table is not None
    if exists:
        whose = table_owner(text, table)
        if whose != "ours":
            why = "you wrote it" if whose == "theirs" else "you changed it since bed init wrote it"
            return Step(path, None, (f"skipped   [tool.bed] in {path.name}: {why}; bed init never replaces it",))
        if not force:
            return Step(path, None, (f"skipped   {path.name}: bed's [tool.bed] table is there "
                                     "(--force replaces that table, and nothing else)",))
    eol = _eol(text)
    values = tomllib.loads(body)
    table_text = f"[tool.bed]\n{mark_line(table_digest(values), what='table')}\n{body}".replace("\n", eol)
    try:
        if exists:  # tomlkit swaps the table where it stands, keeping the rest of the document as it was
            doc = tomlkit.parse(text)
            doc["tool"]["bed"] = tomlkit.parse(table_text)["tool"]["bed"]
            edited = tomlkit.dumps(doc)
        else:  # a new table goes at the end, where it changes no byte before it
            edited = text + _gap(text, eol) + table_text
        tomlkit.parse(edited)
    except (tomlkit.exceptions.TOMLKitError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot add [tool.bed] to it ({exc}).",
                          hint="add the table by hand, or put bed's settings in bed.toml.") from None
    _same_elsewhere(path, text, edited)
    if edited == text:
        return Step(path, None, (f"skipped   [tool.bed] in {path.name}: already bed's current table",))
    return Step(path, edited, (f"{'replaced' if exists else 'added':9} [tool.bed] in {path.name}",))


def _same_elsewhere(path: Path, before: str, after: str) -> None:
    """A guard on the edit: the file means what it meant before, apart from [tool.bed]."""
    try:
        old, new = tomllib.loads(before), tomllib.loads(after)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: cannot add [tool.bed] to it ({exc}).",
                          hint="add the table by hand, or put bed's settings in bed.toml.") from None
    old.get("tool", {}).pop("bed", None)
    new.get("tool", {}).pop("bed", None)
    for data in (old, new):
        if data.get("tool") == {}:
            del data["tool"]
    if old != new:
        raise ConfigError(f"{path}: adding [tool.bed] would change other parts of the file.",
                          hint="add the table by hand, or put bed's settings in bed.toml.")


# --- Makefile ------------------------------------------------------------------------------------

def makefile(root: Path, render: Render, *, force: bool) -> Step:
    path = next((root / name for name in MAKEFILES if (root / name).is_file()), root / "Makefile")
    if not path.exists():
        return Step(path, _block({}, render), (_said("wrote", root, path, "targets " + ", ".join(TARGETS)),))
    text = _read(path)
    span = _block_span(path, text, force=force)
    outside = text if span is None else text[:span[0]] + text[span[1]:]
    theirs = _targets(outside)
    says = [f"skipped   {path.name} target {name}: you define it (line {line}); bed init never changes "
            "a target you wrote" for name, line in theirs.items() if name in TARGETS]
    mine = [t for t in TARGETS if t not in theirs]
    eol = _eol(text)
    if span is not None:
        if not force:
            return Step(path, None, (*says, f"skipped   {path.name}: bed's block is already there "
                                            "(--force rewrites that block, and nothing else)"))
        rewritten = text[:span[0]] + _block(theirs, render).replace("\n", eol) + text[span[1]:]
        if rewritten == text:
            return Step(path, None, (*says, f"skipped   {path.name}: bed's block is already the current one"))
        targets = ", ".join(mine) or "none"
        return Step(path, rewritten, (*says, f"rewrote   bed's block in {path.name}: targets {targets}"))
    if not mine:
        return Step(path, None, tuple(says))
    return Step(path, text + _gap(text, eol) + _block(theirs, render).replace("\n", eol),
                (*says, f"appended  targets {', '.join(mine)} to {path.name}"))


def _block(theirs: Mapping[str, int], render: Render) -> str:
    """bed's block, without the rule of any target the Makefile already defines."""
    paragraphs = render.text("Makefile").split("\n\n")
    out = []
    for paragraph in paragraphs:
        rules = _targets(paragraph)
        name = next(iter(rules), None)
        if name in theirs:
            out.append(f"# {name}: yours is kept (bed init never changes a target you wrote).")
        else:
            out.append(paragraph)
    return "\n\n".join(out)


def _block_span(path: Path, text: str, *, force: bool) -> tuple[int, int] | None:
    """Where bed's block is (start of its first line, end of its last), when there is one."""
    start = next((m.start() for m in re.finditer(rf"^{re.escape(BLOCK_START)}", text, re.MULTILINE)), None)
    if start is None:
        return None
    end = re.compile(rf"^{re.escape(BLOCK_END)}[^\n]*\n?", re.MULTILINE).search(text, start)
    if end is None:
        if not force:  # left alone anyway; only rewriting it needs its end
            return start, len(text)
        line = text.count("\n", 0, start) + 1
        raise ConfigError(f"{path}: bed's block starts at line {line} but its last line `{BLOCK_END}` is missing.",
                          hint="put that line back where the block ends, or delete the block and re-run bed init.")
    return start, end.end()


def _targets(text: str) -> dict[str, int]:
    """The targets a Makefile's rules name, each with the line of its first rule."""
    found: dict[str, int] = {}
    for match in _RULE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        for name in match.group(1).split():
            found.setdefault(name, line)
    return found


# --- the example suite and CI ---------------------------------------------------------------------

def suite_files(root: Path, render: Render, *, force: bool) -> list[Step]:
    return [own_file(root, root / render.suite / name, render.text(f"suite/{name}"), force=force)
            for name in SUITE_FILES]


def github_files(root: Path, render: Render, *, force: bool) -> list[Step]:
    steps = [own_file(root, root / WORKFLOW, render.text("github/workflows/readiness.yml"), force=force)]
    theirs = _pr_template(root)
    if theirs is not None and theirs != root / PR_TEMPLATE:
        rel = theirs.relative_to(root)
        steps.append(Step(root / PR_TEMPLATE, None, (
            _skipped(root, root / PR_TEMPLATE, f"GitHub already uses {rel} (add bed's checklist to it by hand)"),)))
    else:
        steps.append(own_file(root, root / PR_TEMPLATE, render.text("github/pull_request_template.md"), force=force))
    return steps


def gitlab_files(root: Path, render: Render, *, force: bool) -> list[Step]:
    """bed's jobs as .gitlab-ci.yml; beside a .gitlab-ci.yml of yours, as a file it can include."""
    body = render.text("gitlab/gitlab-ci.yml")
    main = root / GITLAB
    if not main.exists() or owner(_read(main)) != "theirs":
        return [own_file(root, main, body, force=force)]
    include = root / GITLAB_INCLUDED
    return [own_file(root, include, body, force=force),
            Step(main, None, (f"skipped   {GITLAB}: you wrote it; to run bed's jobs, add to it: "
                              f"`include: [{{local: {GITLAB_INCLUDED}}}]`",))]


def _pr_template(root: Path) -> Path | None:
    for folder in PR_TEMPLATE_PLACES:
        where = root / folder
        if where.is_dir():
            for entry in sorted(where.iterdir()):
                if entry.name.lower() in ("pull_request_template.md", "pull_request_template"):
                    return entry
    return None


def own_file(root: Path, path: Path, body: str, *, force: bool) -> Step:
    """A file bed writes whole, with its mark line: written when absent; rewritten by --force only
    while it is bed's and unchanged (``init_files.owner``); never replaced otherwise."""
    text = marked(body, markdown=path.suffix == ".md")
    if not path.exists() or path.is_dir():  # a folder there: _preflight refuses it before anything is written
        return Step(path, text, (_said("wrote", root, path),))
    existing = _read(path)
    whose = owner(existing)
    if whose == "theirs":
        return Step(path, None, (_skipped(root, path, "you wrote it; bed init never replaces it"),))
    if whose == "edited":
        return Step(path, None, (_skipped(root, path, "you changed it since bed init wrote it, so it is yours "
                                                       "(delete it to get bed's again)"),))
    if existing == text:
        return Step(path, None, (_skipped(root, path, "already bed's current version"),))
    if not force:
        return Step(path, None, (_skipped(root, path, "bed's, from another bed version (--force rewrites it)"),))
    return Step(path, text, (_said("rewrote", root, path),))


# --- reading, checking, writing -------------------------------------------------------------------

def _root(raw: str) -> Path:
    root = Path(raw).expanduser()
    if not root.is_dir():
        raise ConfigError(f"{raw} is not a folder.", hint="run bed init in your repository, or give its path.")
    return root.resolve()


def _suite_dir(root: Path, raw: str) -> str:
    path = (root / Path(raw).expanduser()).resolve()
    if not raw.strip() or not path.is_relative_to(root) or path == root:
        raise ConfigError(f"--suite-dir {raw!r} is not a folder inside {root}.",
                          hint=f"give a path inside the repository, like {DEFAULT_SUITE}.")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--suite-dir {raw}: {path} is a file.", hint="give a folder for the suite.")
    return path.relative_to(root).as_posix()


def _read(path: Path) -> str:
    raw = read_bounded(path, MAX_FILE, "file", hint="make it a readable text file, or move it aside.")
    try:
        return raw.decode("utf-8")  # bytes, not text mode: a CRLF file stays CRLF
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 ({exc.reason} at byte {exc.start}).",
                          hint="save it as UTF-8 and re-run bed init.") from None


def _toml(path: Path, text: str) -> dict[str, Any]:
    try:
        tomlkit.parse(text)  # the editor must read it too, not only bed's reader
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, tomlkit.exceptions.TOMLKitError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}).",
                          hint="fix the line it names, then re-run bed init.") from None


def _preflight(root: Path, path: Path) -> None:
    """Refuse before anything is written when a file could not be: so a bad repository gets nothing."""
    if path.is_dir():
        raise ArtifactError(f"cannot write {path.relative_to(root)}: it is a folder.",
                            hint="move that folder away, or re-run bed init with another --suite-dir.")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ArtifactError(f"cannot write {path.relative_to(root)}: {parent.relative_to(root)} is a file, "
                            "not a folder.", hint="move that file away, then re-run bed init.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ArtifactError(f"cannot write {path.relative_to(root)}: {parent} is not writable.",
                            hint="run bed init as a user who may write the repository.")


def _write(root: Path, path: Path, text: str | bytes) -> None:
    target = path.resolve() if path.is_symlink() else path  # edit what a link points at, keep the link
    mode = target.stat().st_mode & 0o7777 if target.exists() else None
    try:
        if isinstance(text, bytes):
            _write_bytes(target, text)
        else:
            write_text(target, text, _verbatim)
        if mode is not None:
            target.chmod(mode)
    except (ArtifactError, OSError) as exc:
        why = exc.what if isinstance(exc, ArtifactError) else f"cannot write {target}: {exc.strerror}."
        raise ArtifactError(why, hint="make the repository writable, then re-run bed init "
                                      "(what it wrote already is skipped).") from exc


def _write_bytes(path: Path, data: bytes) -> None:
    """Atomically, as write_text does for text: a vendored wheel is never half there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _verbatim(text: str) -> str:
    # init writes bed's templates and the user's own files, never a secret; redacting would
    # rewrite the user's bytes (a `user:token@` URL in a dependency line, say).
    return text


def _eol(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _gap(text: str, eol: str) -> str:
    """What goes before an addition at the end of ``text`` so that one blank line parts them."""
    if not text.strip() or text.endswith(eol * 2):
        return ""
    return eol if text.endswith("\n") else eol * 2


def _said(verb: str, root: Path, path: Path, what: str = "") -> str:
    return f"{verb:9} {path.relative_to(root)}" + (f" ({what})" if what else "")


def _skipped(root: Path, path: Path, why: str) -> str:
    return f"skipped   {path.relative_to(root)}: {why}"
