"""Run the TCIA look-alike server from the command line.

``python -m tcia_lookalike [--port N] [--url-file FILE]`` serves
until interrupted and prints the NBIA and DataCite base URLs. With
``--idc DIR`` it also plays IDC: an index parquet in ``DIR`` and the same
files in an S3-compatible server (moto, a test dependency) whose endpoint
is written to ``DIR/endpoint``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from .server import LookalikeServer


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        prog='tcia-lookalike',
        description='Serve a TCIA look-alike (NBIA v4 REST + DataCite) on '
        'loopback for tests and demos.',
    )
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0, help='0 picks a free port')
    parser.add_argument(
        '--url-file',
        type=Path,
        help='write the NBIA API base URL to this file once serving',
    )
    parser.add_argument(
        '--large-series-gb',
        type=float,
        default=0,
        metavar='GB',
        help='also serve collection LOOKALIKE-LARGE with one series of this '
        'many gigabytes (for memory benchmarks)',
    )
    parser.add_argument(
        '--cohort',
        type=int,
        default=0,
        metavar='N',
        help='also serve collection LOOKALIKE-COHORT: N patients with one '
        '4-file CT series each',
    )
    parser.add_argument(
        '--idc',
        type=Path,
        metavar='DIR',
        help='also play IDC: write an IDC index (DIR/idc_index.parquet) and '
        'serve the files from an S3 look-alike (its URL in DIR/endpoint)',
    )
    parser.add_argument(
        '--string-numbers',
        action='store_true',
        help='render JSON numbers as strings (a quirk of some NBIA answers)',
    )
    args = parser.parse_args(argv)

    from .holdings import build_cohort, build_default_archive, build_large_collection
    from .nbia_api import Quirks

    archive = build_default_archive()
    if args.large_series_gb > 0:
        archive.collections.append(
            build_large_collection(int(args.large_series_gb * 1e9))
        )
        archive.reindex()
    if args.cohort > 0:
        archive.collections.append(build_cohort(args.cohort))
        archive.reindex()
    srv = LookalikeServer(
        archive,
        host=args.host,
        port=args.port,
        quirks=Quirks(string_numbers=args.string_numbers),
    ).start()
    print(f'NBIA v4 API: {srv.api_url}', flush=True)
    print(f'DataCite:    {srv.datacite_url}', flush=True)
    s3 = None
    if args.idc:
        from .idc import S3Lookalike
        from .idc_index import write_index

        write_index(archive, args.idc / 'idc_index.parquet')
        s3 = S3Lookalike().start()
        s3.fill(archive)
        tmp = args.idc / 'endpoint.tmp'
        tmp.write_text(s3.endpoint + '\n')
        tmp.replace(args.idc / 'endpoint')
        print(f'IDC index:   {args.idc / "idc_index.parquet"}', flush=True)
        print(f'IDC S3:      {s3.endpoint}', flush=True)
    for coll in srv.archive.collections:
        print(f'collection:  {coll.name}', flush=True)
    if args.url_file:
        tmp = args.url_file.with_name(args.url_file.name + '.tmp')
        tmp.write_text(srv.api_url + '\n')
        tmp.replace(args.url_file)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
        if s3 is not None:
            s3.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
