"""The inbox's one flat table (services/inbox_dispatch.py): a key written twice, say a comprehension's keys meeting
a literal's, would silently keep the last handler. Read from the source, every entry must survive into the table."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from fedblog.services import inbox_dispatch
from fedblog.services.inbox_dispatch import HANDLERS


def written_keys() -> list[Any]:
    """Every key the table's source writes, in order, comprehensions expanded in the module's own namespace."""
    tree = ast.parse(Path(inbox_dispatch.__file__).read_text(encoding="utf-8"))
    [table] = [
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == "HANDLERS"
    ]
    assert isinstance(table, ast.Dict)
    names = vars(inbox_dispatch)
    keys: list[Any] = []
    for key, value in zip(table.keys, table.values, strict=True):
        if key is not None:
            keys.append(ast.literal_eval(key))
        else:  # **{(…, kind): handler for kind in …}
            assert isinstance(value, ast.DictComp)
            keys += list(eval(compile(ast.Expression(value), "<table>", "eval"), names))
    return keys


def test_handlers__no_entry_of_the_table_overwrites_another() -> None:
    keys = written_keys()
    assert len(keys) == len(set(keys)) == len(HANDLERS)


def test_handlers__a_create_an_update_and_an_undo_by_id_reach_their_named_handlers() -> None:
    assert HANDLERS[("Create", "Note")].__qualname__ == "on_create"
    assert HANDLERS[("Update", "Note")].__qualname__ == "on_update"
    assert HANDLERS[("Update", "Person")].__qualname__ == "on_actor_update"
    assert HANDLERS[("Undo", None)] is inbox_dispatch.undo_by_id
