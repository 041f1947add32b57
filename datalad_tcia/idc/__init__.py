"""IDC, the Imaging Data Commons, as TCIA's second home: its offline index
(search without NBIA) and its per-file object URLs (sources beside TCIA's).
"""

from .analysis import (
    AnalysisChoice,
    AnalysisIndexError,
    AnalysisResult,
    analysis_result_id,
    analysis_results_beside,
    read_analysis_results,
)
from .convert import from_idc, idc_collection_id, normalize_doi, series_info
from .index import IdcIndex
from .located import IdcIndexError, IdcSeries, VersionMatch, default_index_path

__all__ = [
    'AnalysisChoice',
    'AnalysisIndexError',
    'AnalysisResult',
    'analysis_result_id',
    'analysis_results_beside',
    'read_analysis_results',
    'IdcIndex',
    'IdcIndexError',
    'IdcSeries',
    'VersionMatch',
    'default_index_path',
    'from_idc',
    'idc_collection_id',
    'normalize_doi',
    'series_info',
]
