"""One member of a series archive, or one file of a series from IDC, as
the file records (``*_metadata_dicoms.json``, SPEC 3.2) keep it: the one
typed record of a file, on the NBIA path (made here, while the archive is
indexed) and the IDC path alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .md5manifest import LICENSE, MD5_MANIFEST

#: members that NBIA adds beside the DICOM files
SPECIAL_MEMBERS = frozenset({LICENSE, MD5_MANIFEST})


@dataclass(frozen=True)
class MemberRecord:
    """One file of a series, as ``*_metadata_dicoms.json`` records it.

    Attributes
    ----------
    path: str
      Its name: the member name in the archive, or for a series from IDC
      the name NBIA's archive would give it (``NewFileNames``).
    size: int
      Bytes.
    md5: str
      MD5 hex digest.
    dicom: bool
      Whether it is a DICOM file.
    tags: mapping
      DICOM keyword -> value (``SOPInstanceUID`` and the configured tags).
    idc_url: str or None
      Where IDC serves the same bytes, if known.
    """

    path: str
    size: int
    md5: str
    dicom: bool
    tags: Mapping[str, Any] = field(default_factory=dict, compare=False)
    idc_url: str | None = None

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> MemberRecord:
        tags = {
            k: v
            for k, v in obj.items()
            if k not in ('path', 'size', 'md5', 'dicom', 'idc_url')
        }
        return cls(
            path=str(obj['path']),
            size=int(obj['size']),
            md5=str(obj['md5']),
            dicom=bool(obj.get('dicom')),
            tags=tags,
            idc_url=None if obj.get('idc_url') is None else str(obj['idc_url']),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            'path': self.path,
            'size': self.size,
            'md5': self.md5,
            'dicom': self.dicom,
            **self.tags,
        }
        if self.idc_url:
            out['idc_url'] = self.idc_url
        return out

    @property
    def sop_uid(self) -> str | None:
        """The SOPInstanceUID, for DICOM members that have one."""
        value = self.tags.get('SOPInstanceUID')
        return str(value) if value else None

    @property
    def is_image(self) -> bool:
        """Whether it is a file of the series (not LICENSE or md5hashes.csv)."""
        return self.path not in SPECIAL_MEMBERS
