"""Constraints of the TCIA commands' parameters (datalad-next style)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from datalad_next.constraints import Constraint, EnsureURL

from datalad_tcia.http import redact
from datalad_tcia.pipeline.selection import Selection

#: the parameters that make up a selection: the fields of ``Selection``,
#: the one place they are named
SELECTION = tuple(f.name for f in fields(Selection))


class EnsureStoreURL(EnsureURL):
    """A store URL: with a scheme, and without user name or password.

    Store URLs are written into every export (subdataset URLs) and
    result, so they must not carry credentials; the message shows the URL
    redacted.
    """

    def __init__(self) -> None:
        super().__init__(required=['scheme'])

    def __call__(self, value: str) -> str:
        parsed = self._validate_parsed(value)
        if parsed.username is not None or parsed.password is not None:
            self.raise_for(
                redact(value),
                'the store URL carries credentials, which would be recorded '
                'in every export; give the URL without them and let those '
                'who clone use DataLad credentials ("datalad credentials")',
            )
        return value

    def short_description(self) -> str:
        return 'URL without user name or password'


class EnsureSelection(Constraint):
    """The parts of a selection, validated together.

    Series UIDs are stripped and their duplicates dropped; filters
    (modality, body part, manufacturer) narrow the other parts. Whether a
    selection names anything is for NBIA to say (an ``impossible``
    result per bad part), not for the command line.
    """

    def __call__(self, **parts: Any) -> dict[str, Any]:
        series = parts.get('series')
        if series:
            parts['series'] = list(dict.fromkeys(s.strip() for s in series))
        if parts.get('where') is not None and not parts['where'].strip():
            self.raise_for(parts, '--where needs a condition')
        return parts

    def short_description(self) -> str:
        return 'a selection of TCIA series'
