"""Imports point downward: web → services → store and protocol. Read from the source with ast."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "fedblog"

# For each layer, the fedblog packages it must never import (directly, even lazily inside a function).
FORBIDDEN = {
    "protocol": (
        "fedblog.store",
        "fedblog.services",
        "fedblog.web",
        "fedblog.cli",
        "fedblog.app",
        "fedblog.context",
        "fedblog.assembly",
    ),
    "store": ("fedblog.services", "fedblog.web", "fedblog.cli", "fedblog.app", "fedblog.protocol", "fedblog.assembly"),
    "services": ("fedblog.web", "fedblog.cli", "fedblog.app", "fedblog.assembly"),
    "web": ("fedblog.cli", "fedblog.assembly"),
}
# The one wiring module (fedblog/assembly.py) knows every service; only the entry points open contexts through it.
ASSEMBLY_USERS = {"app.py", "cli"}
# Shared top-level modules the layers build on: they know no layer above the store.
FOUNDATIONS = (
    "context.py",
    "events.py",
    "models.py",
    "config.py",
    "urls.py",
    "clock.py",
    "i18n.py",
    "rendering.py",
    "logs.py",
    "heap.py",
)
# Pure protocol code does no I/O: no network or database library.
PROTOCOL_IO_MODULES = ("aiohttp", "aiosqlite", "sqlite3", "socket", "asyncio", "urllib.request", "requests")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def runtime_imports(path: Path) -> set[str]:
    """The imports that run: those under `if TYPE_CHECKING:` name types only."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def modules_of(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).glob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layering__lower_layers_never_import_upper_ones(layer: str) -> None:
    offenders = [
        f"{path.name} imports {name}"
        for path in modules_of(layer)
        for name in imported_modules(path)
        if name.startswith(FORBIDDEN[layer])
    ]
    assert modules_of(layer), f"no modules found in fedblog/{layer}"
    assert offenders == []


def test_layering__protocol_code_does_no_io() -> None:
    offenders = [
        f"{path.name} imports {name}"
        for path in modules_of("protocol")
        for name in imported_modules(path)
        if name.split(".")[0] in PROTOCOL_IO_MODULES or name in PROTOCOL_IO_MODULES
    ]
    assert offenders == []


# Database drivers: only the store knows them; everything above names the store's own types and exceptions.
DRIVER_MODULES = ("sqlite3", "aiosqlite", "asyncpg", "psycopg", "psycopg2")


def test_layering__no_database_driver_outside_the_store() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.relative_to(PACKAGE).parts[0] != "store"
        for name in imported_modules(path)
        if name.split(".")[0] in DRIVER_MODULES
    ]
    assert offenders == []


def test_layering__only_the_entry_points_use_the_wiring_module() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "assembly.py"
        and path.relative_to(PACKAGE).parts[0] not in ASSEMBLY_USERS
        and any(name.startswith("fedblog.assembly") for name in imported_modules(path))
    ]
    assert (PACKAGE / "assembly.py").is_file()
    assert offenders == []


@pytest.mark.parametrize("name", FOUNDATIONS)
def test_layering__the_context_and_shared_modules_import_no_layer_above_the_store(name: str) -> None:
    """The Context names the types of the runtime state services keep in it, for the type checker only."""
    upper = ("fedblog.services", "fedblog.web", "fedblog.cli", "fedblog.app", "fedblog.assembly")
    imported = runtime_imports(PACKAGE / name) if name == "context.py" else imported_modules(PACKAGE / name)
    assert [module for module in imported if module.startswith(upper)] == []


IMPORT_WORDS = ("import ", "from ")


def test_layering__imports_inside_functions_say_why() -> None:
    """An import inside a function is for a measured start-up cost or a real cycle: a comment says which, on its
    line or in the comment lines just above it (a group of imports shares one)."""
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if not isinstance(inner, ast.Import | ast.ImportFrom):
                    continue
                above = inner.lineno - 2
                while above >= 0 and (not lines[above].strip() or lines[above].lstrip().startswith(IMPORT_WORDS)):
                    above -= 1
                if "#" not in lines[inner.lineno - 1] and not lines[above].lstrip().startswith("#"):
                    unexplained.append(f"{path.relative_to(PACKAGE)}:{inner.lineno}")
    assert unexplained == []


# Modules split out by noun or by job, and what each must not lean on, so that the split holds.
SPLIT_MODULES_MUST_NOT_IMPORT = {
    # Where a reply goes is decided without knowing how replies are stored (the caller stores ancestors).
    "services/thread_placement.py": ("fedblog.services.replies",),
    # The retry policy is pure: the worker passes the answer and the time; no I/O, no clock, no other service.
    "services/delivery_policy.py": (*PROTOCOL_IO_MODULES, "fedblog.services", "fedblog.clock", "time"),
    # The ActivityStreams vocabulary and readers are the base every document module builds on.
    "protocol/activitystreams.py": ("fedblog.",),
    # Images know nothing of Notes or actors, which both use them.
    "protocol/images.py": ("fedblog.protocol",),
}


@pytest.mark.parametrize("module", sorted(SPLIT_MODULES_MUST_NOT_IMPORT))
def test_layering__split_modules_stay_apart(module: str) -> None:
    forbidden = SPLIT_MODULES_MUST_NOT_IMPORT[module]
    assert [name for name in imported_modules(PACKAGE / module) if name.startswith(forbidden)] == []


# Each of these names is defined in one module only: a copy elsewhere would undo the split.
DEFINED_ONLY_IN = {
    "ThreadPlace": "services/thread_placement.py",
    "ThreadRef": "services/thread_placement.py",
    "ChainBudget": "services/thread_placement.py",
    "thread_ref": "services/thread_placement.py",
    "resolve_place": "services/thread_placement.py",
    "local_place": "services/thread_placement.py",
    "decide": "services/delivery_policy.py",
    "next_delay": "services/delivery_policy.py",
    "pause_for": "services/delivery_policy.py",
    "counts_as_host_failure": "services/delivery_policy.py",
    "first_id": "protocol/activitystreams.py",
    "is_public": "protocol/activitystreams.py",
    "post_to_note": "protocol/notes.py",
    "comment_to_note": "protocol/notes.py",
    "NOTE_CONTEXT": "protocol/notes.py",
    "actor_document": "protocol/actors.py",
    "actor_from_document": "protocol/actors.py",
    "ACTOR_CONTEXT": "protocol/actors.py",
    "create_activity": "protocol/activities.py",
    "accept_follow": "protocol/activities.py",
    "ordered_collection": "protocol/ordered_collections.py",
    "ordered_collection_page": "protocol/ordered_collections.py",
    "image_attachments": "protocol/images.py",
    # URL parts beside the SSRF rules; the forms' Origin check is web/origin_check.posted_from_this_site.
    "is_http_url": "protocol/addresses.py",
    "host_of": "protocol/addresses.py",
    "hostname_of": "protocol/addresses.py",
    "origin_of": "protocol/addresses.py",
    "same_host": "protocol/addresses.py",
    "same_origin": "protocol/addresses.py",
}


def top_level_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def test_layering__split_out_names_are_defined_once() -> None:
    defined: dict[str, list[str]] = {name: [] for name in DEFINED_ONLY_IN}
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in top_level_names(path) & defined.keys():
            defined[name].append(str(path.relative_to(PACKAGE)))
    assert defined == {name: [module] for name, module in DEFINED_ONLY_IN.items()}


def test_layering__benchmarks_never_import_the_tests() -> None:
    """The tests may use what bench/ builds (a WordPress export); bench/ runs without the tests."""
    bench = PACKAGE.parent / "bench"
    offenders = [
        f"{path.relative_to(bench)} imports {name}"
        for path in sorted(bench.rglob("*.py"))
        for name in imported_modules(path)
        if name == "tests" or name.startswith("tests.")
    ]
    assert offenders == []


def module_level_imports(path: Path) -> set[str]:
    """What importing the module runs: its top-level imports, outside functions and `if TYPE_CHECKING:`."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If) and not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return names


def module_name(path: Path) -> str:
    return ".".join(("fedblog", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")


def test_layering__module_level_imports_form_no_cycle() -> None:
    """So that no import inside a function is needed to break one (the faces and the page renderer were such a
    pair, through web/post_page)."""
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: (module_level_imports(path) & paths.keys()) - {name} for name, path in paths.items()}
    cycles: list[list[str]] = []
    state: dict[str, str] = {}
    trail: list[str] = []

    def walk(name: str) -> None:
        state[name] = "open"
        trail.append(name)
        for imported in sorted(graph[name]):
            if state.get(imported) == "open":
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported not in state:
                walk(imported)
        trail.pop()
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name)
    assert cycles == []


def import_structure(only: str = "") -> list[str]:
    """One line per fedblog module: the fedblog modules it imports when it runs (type-only imports left out)."""
    lines = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(("fedblog", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        if only and not module.startswith(only):
            continue
        names = sorted(name for name in runtime_imports(path) if name.startswith("fedblog.") and name != module)
        lines.append(f"{module} -> {', '.join(names) if names else '(nothing of fedblog)'}")
    return lines


if __name__ == "__main__":  # `make imports` (MODULE=fedblog.protocol for one part)
    print("\n".join(import_structure(sys.argv[1] if len(sys.argv) > 1 else "")))


def test_layering__one_statement_inserts_comments() -> None:
    """The form, the author's replies, fediverse replies, webmentions and the WordPress import all write a comment
    through store/comments.add_comment_sync's one INSERT; PostgreSQL's batch of held inbox replies (one statement for
    a run of them, store/postgresql/batches.py) is that INSERT's bulk form, and the only other one."""
    writers = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        for _ in range(path.read_text(encoding="utf-8").count("INSERT INTO comments ("))
    ]
    assert writers == ["store/comments.py", "store/postgresql/batches.py"]


def test_layering__runtime_state_is_typed() -> None:
    """No dictionary of string keys on the context, and no untyped context parameter (mypy checks the rest)."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            annotation = ast.unparse(node.annotation) if isinstance(node, ast.arg) and node.annotation else ""
            if isinstance(node, ast.arg) and node.arg == "ctx" and annotation == "Any":
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} ctx: Any")
            if isinstance(node, ast.Attribute) and node.attr == "extras" and ast.unparse(node.value).endswith("ctx"):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno} ctx.extras")
    assert offenders == []


def test_layering__aiosqlite_is_not_used() -> None:
    """The store drives sqlite3 on its own threads (store/connection.py); no aiosqlite, and so none of its private
    API. (It is a test extra for one benchmark's ceiling only.)"""
    users = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if any(name.split(".")[0] == "aiosqlite" for name in imported_modules(path))
    ]
    assert users == []
