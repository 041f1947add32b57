"""Paths of the store's top-level dataset (every collection dataset of the
store as a subdataset) and of the catalog's home."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .layout import ExportPaths

#: name of the top-level dataset's export (``<store>/tcia.git``)
TOP = 'tcia'


@dataclass(frozen=True)
class TopLayout:
    """Paths of the store's top-level dataset, which holds every
    collection dataset of the store as a subdataset at its collection id.

    Parameters
    ----------
    store: Path
      The store directory.
    """

    store: Path

    @property
    def root(self) -> Path:
        """Where its working copy and lock live (``<store>/.tcia``)."""
        return self.store / f'.{TOP}'

    @property
    def repo(self) -> Path:
        """Its working copy."""
        return self.root / 'repo'

    @property
    def export(self) -> ExportPaths:
        """Its export: ``<store>/tcia.git`` and ``<store>/tcia_XDLRA--*``."""
        return ExportPaths(self.store / TOP, TOP)

    @property
    def lock(self) -> Path:
        return self.root / 'lock'

    @property
    def catalog(self) -> Path:
        """The catalog's home (``<store>/catalog``): every collection, each
        linking to its own catalog site."""
        return self.store / 'catalog'

    def stale_repos(self) -> list[Path]:
        """Working copies an interrupted run left under a temporary name."""
        if not self.root.is_dir():
            return []
        return [p for p in self.root.glob('.repo.*.part') if p.is_dir()]
