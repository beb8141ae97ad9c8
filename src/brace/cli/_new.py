"""`brace new NAME`: a project that runs at once (`brace run`, on SQLite) and shows the layout
brace expects: an app package with settings, routes, models, templates and static files, the
migrations, the tests, and the files a repository needs.

The project templates are real files under `brace/project_templates/`: `_common/` first, then
the chosen template on top. Only files ending in `.tmpl` are rendered (the suffix dropped), by
plain replacement of `__project__` and `__brace_version__`, placeholders that cannot occur in
Jinja2 syntax, so the projects' own Jinja2 templates are copied byte for byte. `__project__` in
a path becomes the project name, and a leading `dot_` a leading dot (`dot_gitignore`), since
dotfiles in the package would be taken for the repository's own.
"""

from __future__ import annotations

import importlib.machinery
import importlib.metadata
import keyword
import os
import re
import shutil
import sys
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

import click

__all__ = ["TEMPLATES", "name_problem", "new", "write_project"]

TEMPLATES = ("minimal", "api", "fullstack")
"""The project templates, smallest first."""

_WITH_DATABASE = frozenset({"api", "fullstack"})
_PROJECT = "__project__"
_VERSION = "__brace_version__"
_RENDERED = ".tmpl"
_DOT = "dot_"
# sys.stdlib_module_names leaves out the standard library's own test suite.
_STDLIB = frozenset({*sys.stdlib_module_names, *sys.builtin_module_names, "test"})
# Names the project's own layout takes at its root: app.py is what `brace run` imports.
_LAYOUT = {
    "app": "app.py, the entry point `brace run` imports",
    "tests": "the tests/ directory",
    "migrations": "the migrations/ directory",
}


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a project's package, or None when it can."""
    if not (name.isascii() and name.isidentifier()):
        suggestion = re.sub(r"\W", "_", name.strip().replace("-", "_"), flags=re.ASCII)
        if not suggestion or suggestion[0].isdigit():
            suggestion = f"project_{suggestion}"
        return (
            f"{name!r} is not a Python identifier: the project is a package of that name. "
            f"Use letters, digits and underscores, not starting with a digit, like {suggestion}"
        )
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword: `import {name}` would be a syntax error"
    if name in _STDLIB:
        # `site` is imported at interpreter start-up: `site.app` would then never be found.
        return (
            f"{name!r} is a module of Python's standard library: the project's package would "
            f"shadow it (or be shadowed by it), and the app could not be imported. "
            f"Choose another name, like my_{name}"
        )
    if name in _LAYOUT:
        return f"{name!r} is taken by the project's own layout ({_LAYOUT[name]})"
    installed = _installed_module(name)
    if installed is not None:
        return (
            f"{name!r} is already an installed module ({installed}): the project's package "
            f"would shadow it. Choose another name, like my_{name}"
        )
    return None


def _installed_module(name: str) -> str | None:
    """Where an importable module `name` lives, the current directory aside (where the
    project itself will be)."""
    here = os.getcwd()
    paths = [p for p in sys.path if p and os.path.abspath(p) != here]
    try:
        spec = importlib.machinery.PathFinder.find_spec(name, paths)
    except (ImportError, ValueError):  # pragma: no cover - a broken entry on sys.path
        return None
    # A bare directory on sys.path (a namespace portion) is no module anyone relies on.
    if spec is None or spec.origin in (None, "namespace"):
        return None
    return str(spec.origin)


def _brace_requirement() -> str:
    """The version specifier the project puts on brace: this one or newer."""
    try:
        return f">={importlib.metadata.version('brace')}"
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - brace from a checkout
        return ""


def _render_tree(source: Traversable, target: Path, values: dict[str, str]) -> None:
    for entry in sorted(source.iterdir(), key=lambda item: item.name):
        if entry.name == "__pycache__":
            continue
        name = entry.name.replace(_PROJECT, values[_PROJECT])
        if name.startswith(_DOT):
            name = "." + name.removeprefix(_DOT)
        if entry.is_dir():
            _render_tree(entry, target / name, values)
            continue
        data = entry.read_bytes()
        if name.endswith(_RENDERED):
            name = name.removesuffix(_RENDERED)
            text = data.decode("utf-8")
            for placeholder, value in values.items():
                text = text.replace(placeholder, value)
            data = text.encode("utf-8")
        target.mkdir(parents=True, exist_ok=True)
        (target / name).write_bytes(data)


def write_project(name: str, template: str, target: Path) -> None:
    """Write the project `name` from `template` into `target` (absent or empty).

    Raises ValueError for a bad name or template, FileExistsError for a directory in use."""
    problem = name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}: choose one of {', '.join(TEMPLATES)}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        what = "is not empty" if target.is_dir() else "is a file"
        raise FileExistsError(f"{target} already exists and {what}")
    created = not target.exists()
    values = {_PROJECT: name, _VERSION: _brace_requirement()}
    root = files("brace").joinpath("project_templates")
    try:
        target.mkdir(parents=True, exist_ok=True)
        if template in _WITH_DATABASE:
            from ..db.migrations import init

            init(target / "migrations")  # env.py and script.py.mako, as `brace db init`
        _render_tree(root.joinpath("_common"), target, values)
        _render_tree(root.joinpath(template), target, values)
    except BaseException:
        # Half a project is worse than none: the command can simply be run again.
        if created:
            shutil.rmtree(target, ignore_errors=True)
        raise


@click.command()
@click.argument("name")
@click.option(
    "--template",
    "-t",
    type=click.Choice(TEMPLATES),
    default="minimal",
    show_default=True,
    help="minimal: a page and a JSON route; api: a typed CRUD API on a database; "
    "fullstack: pages, forms, sign-up and login, a token-protected API.",
)
@click.option(
    "--directory",
    "-d",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the project (absent or empty). Default: ./NAME",
)
def new(name: str, template: str, directory: Path | None) -> None:
    """Create the project NAME (a Python package name) from a template."""
    problem = name_problem(name)
    if problem is not None:
        raise click.BadParameter(problem, param_hint="'NAME'")
    if template in _WITH_DATABASE:
        try:
            import alembic  # noqa: F401
            import sqlalchemy  # noqa: F401
        except ImportError:
            raise click.ClickException(
                f'the {template} template uses brace.db: pip install "brace[db]"'
            ) from None
    target = directory if directory is not None else Path(name)
    try:
        write_project(name, template, target)
    except FileExistsError as exc:
        raise click.ClickException(
            f"{exc}: choose another --directory, or remove what is there"
        ) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {target}: {exc.strerror or exc}") from None
    click.echo(f"Created {name} ({template} template) in {target}/")
    click.echo("\nNext:")
    if target.resolve() != Path.cwd():
        click.echo(f"  cd {target}")
    click.echo("  brace run          # serve it on http://127.0.0.1:8000, /docs for the API")
    click.echo("  python -m pytest   # run its tests")
