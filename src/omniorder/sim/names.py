"""How the simulator's outputs name a strategy: by the name typed with ``--strategy``.

The terminal table, the JSON report (its keys), the PNG charts and the HTML page all show
``nearest_per_line``, ``ship_complete_else_nearest``, ``priority``, ``high_stock``,
``optimal`` and ``batch`` as they are typed, so what a user asks for is what they see; the
baseline of a replay, how the stored orders were really routed, is ``as_routed``. Only the
terminal folds a long name over lines, after its underscores, to keep the table narrow.
"""

from __future__ import annotations

#: The column of a replay: the plans the stored orders really got.
AS_ROUTED = "as_routed"
#: Terminal column heads are folded to lines of at most this many characters.
HEAD_WIDTH = 9


def column_head(name: str, width: int = HEAD_WIDTH) -> str:
    """``name`` folded after its underscores into lines of at most ``width`` characters
    (a longer part keeps a line of its own): the same name, written over lines.

    >>> print(column_head("ship_complete_else_nearest"))
    ship_
    complete_
    else_
    nearest
    """
    parts = [p + "_" for p in name.split("_")]
    parts[-1] = parts[-1][:-1]
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def unfolded(head: str) -> str:
    """The name a column head shows, without its line breaks."""
    return head.replace("\n", "")
