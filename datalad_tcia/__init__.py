"""DataLad extension for The Cancer Imaging Archive (TCIA).

Turns DICOM series served by TCIA's NBIA REST API into lightweight,
versioned DataLad datasets whose files are retrieved from TCIA on demand.
"""

from __future__ import annotations

from datalad.support.extensions import register_config
from datalad_next.constraints import EnsureBool, EnsureFloat, EnsureInt, EnsureStr

from ._version import __version__
from .datacite import DEFAULT_DATACITE_URL
from .nbia import DEFAULT_API_URL

__all__ = ['__version__', 'command_suite']

command_suite = (
    'Build DataLad datasets from The Cancer Imaging Archive (TCIA)',
    [
        ('datalad_tcia.commands.ls', 'TciaLs', 'tcia-ls', 'tcia_ls'),
        (
            'datalad_tcia.commands.download',
            'TciaDownload',
            'tcia-download',
            'tcia_download',
        ),
        (
            'datalad_tcia.commands.deposit_metadata',
            'TciaDepositMetadata',
            'tcia-deposit-metadata',
            'tcia_deposit_metadata',
        ),
        (
            'datalad_tcia.commands.deposit_dataset',
            'TciaDepositDataset',
            'tcia-deposit-dataset',
            'tcia_deposit_dataset',
        ),
        (
            'datalad_tcia.commands.catalog',
            'TciaCatalog',
            'tcia-catalog',
            'tcia_catalog',
        ),
        ('datalad_tcia.commands.add', 'TciaAdd', 'tcia-add', 'tcia_add'),
        ('datalad_tcia.commands.get', 'TciaGet', 'tcia-get', 'tcia_get'),
    ],
)

register_config(
    'datalad.tcia.api-url',
    'NBIA REST API base URL',
    description='Base URL of the NBIA v4 REST API that TCIA commands query '
    "and download from. The aliases 'nbia' and 'nlst' (NLST has its own "
    'server) are accepted. Command options (--api-url) win over this.',
    type=EnsureStr(),
    default=DEFAULT_API_URL,
    dialog='question',
)
register_config(
    'datalad.tcia.datacite-url',
    'DataCite REST API base URL',
    description='Base URL of the DataCite REST API used to look up the DOI '
    'record of a collection.',
    type=EnsureStr(),
    default=DEFAULT_DATACITE_URL,
    dialog='question',
)
register_config(
    'datalad.tcia.token',
    'Bearer token for the NBIA API',
    description='Sent as "Authorization: Bearer" with every NBIA request, '
    'for a deployment that wants one (NBIA v4 at TCIA needs none). Keep it '
    'in your user configuration or DATALAD_TCIA_TOKEN, never in a dataset; '
    'it is never written into the store, a dataset, a result or a log.',
    type=EnsureStr(),
)
register_config(
    'datalad.tcia.store',
    'Default store directory',
    description='Directory that holds downloaded archives, metadata, '
    'dataset exports and catalogs. Command options (--store) win over this.',
    type=EnsureStr(),
    default='./tcia-store',
    dialog='question',
)
register_config(
    'datalad.tcia.dicom-tags',
    'DICOM keywords recorded per file',
    description='Comma- or space-separated DICOM keywords whose values the '
    'metadata records for every DICOM file (SOPInstanceUID and the '
    'transfer syntax are always recorded). Default: SOPClassUID, Modality, '
    'PatientID, StudyInstanceUID, SeriesInstanceUID, StudyDate, '
    'StudyDescription, SeriesDescription, SeriesNumber, InstanceNumber, '
    'AcquisitionNumber, BodyPartExamined, ProtocolName, Manufacturer, Rows, '
    'Columns.',
    type=EnsureStr(),
    dialog='question',
)
register_config(
    'datalad.tcia.idc',
    'Add IDC sources to the datasets',
    description='Look up every recorded series in the IDC index, list its '
    "objects in IDC's bucket (no credentials) and register each file's IDC "
    "URL (matched by MD5 and size) as a source tried before TCIA's. "
    'tcia-add and tcia-deposit-dataset --no-idc switch it off for one run.',
    type=EnsureBool(),
    default=True,
    dialog='yesno',
)
register_config(
    'datalad.tcia.idc-index',
    'IDC index file',
    description="A parquet file with the columns of idc-index-data's "
    'idc_index (e.g. a newer or older release), used for --index idc and '
    'to find where IDC keeps a series. Default: the installed '
    "idc-index-data package's. NBIA collection names come from a "
    'collections_index.parquet beside it, where there is one.',
    type=EnsureStr(),
)
register_config(
    'datalad.tcia.idc-endpoint',
    "IDC's S3 endpoint",
    description="Where IDC's buckets are read (anonymously) and what "
    'the registered IDC URLs start with, path-style: '
    '<endpoint>/<bucket>/<series uuid>/<instance uuid>.dcm.',
    type=EnsureStr(),
    default='https://s3.amazonaws.com',
    dialog='question',
)
register_config(
    'datalad.tcia.idc-header-bytes',
    'Bytes of the first request for a header from IDC',
    description='A series acquired from IDC (--source idc or auto) reads '
    "each file's DICOM header with HTTP Range requests: first this many "
    'bytes, then twice as many, and so on, until PixelData is reached or '
    'the file ends (8192 holds the header of most CT and MR files).',
    type=EnsureInt(),
    default=8192,
    dialog='question',
)
register_config(
    'datalad.tcia.container-runner',
    'Command that runs a container image in SLURM jobs',
    description='With tcia-add --slurm-container IMAGE the jobs run '
    '"<runner> exec --bind <store> IMAGE datalad ..."; the runner is any '
    "command with Apptainer's exec and --bind, e.g. apptainer, singularity "
    "or the project's singularity/bwrap-exec (bubblewrap). Default: "
    'apptainer, else singularity, whichever the node has on PATH.',
    type=EnsureStr(),
)
register_config(
    'datalad.tcia.catalog-max-files',
    'Most file entries in a collection catalog',
    description='A catalog lists every file of its patient datasets only '
    'when the collection has at most this many files; above, the patient '
    'pages list their studies and series (files, sizes, UIDs) but not each '
    'file, so that a catalog of a large collection stays quick to write and '
    'to open. 0: never list files.',
    type=EnsureInt(),
    default=20000,
    dialog='question',
)
register_config(
    'datalad.tcia.catalog-max-subdatasets',
    'Most patients listed as subdatasets of a collection page',
    description='A collection page lists every patient in its Patients tab '
    '(with a link to the patient page); up to this many patients it also '
    'lists them as subdatasets, which the catalog fetches and renders one '
    'by one (a page of 1,010 subdatasets takes more than 4 s to open).',
    type=EnsureInt(),
    default=200,
    dialog='question',
)
register_config(
    'datalad.tcia.catalog-patients-on-page',
    'Patients listed on a collection page',
    description='A collection page lists this many patients in its '
    'Patients tab; a bigger collection lists these first ones and links to '
    'its patient search page (patients.html: every patient, searched by '
    'PatientID, page by page), since datalad-catalog renders every row of '
    'a tab at once.',
    type=EnsureInt(),
    default=200,
    dialog='question',
)
register_config(
    'datalad.tcia.group-above',
    'Most patients a collection dataset holds directly',
    description='A collection of more patients holds them in group '
    'datasets of up to about a thousand (nlst/100xxx/100012), since '
    "DataLad's cost of installing one subdataset grows with the square of "
    'its siblings (0.35 s beside 2,000, 5.7 s beside 26,254). Decided once '
    'per collection, when it first exceeds this size.',
    type=EnsureInt(),
    default=2000,
    dialog='question',
)
register_config(
    'datalad.tcia.max-attempts',
    'Attempts per NBIA request',
    description='How often a request to NBIA is tried in total before it '
    'fails (connection errors, timeouts, HTTP 429 and 5xx are retried; other '
    '4xx are not).',
    type=EnsureInt(),
    default=5,
    dialog='question',
)
register_config(
    'datalad.tcia.retry-initial-delay',
    'Seconds before the first retry',
    description='Retries back off exponentially from this delay, with jitter, '
    "and honour a server's Retry-After.",
    type=EnsureFloat(),
    default=1.0,
    dialog='question',
)
register_config(
    'datalad.tcia.retry-budget',
    'Seconds after which no further retry starts',
    type=EnsureFloat(),
    default=300.0,
    dialog='question',
)
register_config(
    'datalad.tcia.timeout',
    'Read timeout (seconds) of NBIA requests',
    description='A response that stalls for longer than this, also in the '
    'middle of a download, fails the attempt.',
    type=EnsureFloat(),
    default=120.0,
    dialog='question',
)
