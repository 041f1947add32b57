"""DataCite asked once per DOI and run: every step that needs a
collection's record (the citation check, the collection dataset's
``CITATION.cff``, the catalog) shares one :class:`CitationLookup`."""

from __future__ import annotations

import threading

from .client import DataCiteClient
from .exceptions import DataCiteError
from .record import Citation


class CitationLookup:
    """The DataCite records of a run, each asked for once.

    A failure is remembered too: DataCite down costs one round of
    retries per DOI and run, not one per step.

    Parameters
    ----------
    client: DataCiteClient
      Who answers.
    """

    def __init__(self, client: DataCiteClient) -> None:
        self.client = client
        self._known: dict[str, Citation | None | DataCiteError] = {}
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def citation(self, doi: str) -> Citation | None:
        """The record of ``doi``, or ``None`` if DataCite does not know it.

        Raises
        ------
        DataCiteError
          If DataCite could not be asked (this run, for this DOI).
        """
        key = doi.strip().lower()
        with self._lock:
            if key not in self._known:
                try:
                    self._known[key] = self.client.citation(doi)
                except DataCiteError as e:
                    self._known[key] = e
            found = self._known[key]
        if isinstance(found, DataCiteError):
            raise found
        return found
