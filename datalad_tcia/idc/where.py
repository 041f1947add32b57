"""A user's SQL condition over the IDC index (``--where``): what makes it
refused, and the message that says why.

The condition is parsed by DuckDB as one expression (a relation's
filter), never as a statement, and only ever read: nothing it says can
write or run a second statement.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

_NO_COLUMN = re.compile(r'Referenced column "?([^"\s]+)"? not found')


class WhereError(ValueError):
    """The condition cannot be answered (bad column, syntax, type)."""


def where_message(condition: str, error: Exception, columns: Sequence[str]) -> str:
    """Why DuckDB refused ``condition``, naming the column it does not
    know, if that is the reason, and what to do.

    >>> print(where_message("PatientSx = 'F'", Exception(
    ...     'Binder Error: Referenced column "PatientSx" not found in FROM clause!'),
    ...     ['PatientSex', 'Modality']))  # doctest: +ELLIPSIS
    the IDC index has no column 'PatientSx' (did you mean 'PatientSex'?) ...
    """
    found = _NO_COLUMN.search(str(error))
    if found:
        name = found.group(1)
        close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
        lower = {c.lower(): c for c in columns}
        guess = close[0] if close else lower.get(name.lower())
        hint = f' (did you mean {guess!r}?)' if guess else ''
        return (
            f'the IDC index has no column {name!r}{hint} in the condition '
            f'{condition!r}; nothing was selected. Its columns: '
            + ', '.join(sorted(columns))
        )
    first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return (
        f'the condition {condition!r} is not one the IDC index can answer '
        f'({first}); nothing was selected. Give one SQL condition over the '
        "index's columns, e.g. \"PatientSex = 'F' AND Modality = 'MR'\""
    )
