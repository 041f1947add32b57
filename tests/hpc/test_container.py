"""The Apptainer/Singularity image, built and run: ``singularity/build.sh``
makes the SIF file from Debian's packages and PyPI, and the pipeline runs
inside it in bubblewrap (``singularity/bwrap-exec``, Apptainer's ``exec``
with the root read-only and the store and ``$HOME`` bound), by hand and as
SLURM jobs (``--slurm-container`` with the runner configured).

The image takes about 80 s to build once the Debian packages are cached
(``~/.cache/datalad-tcia``); the test command installs the tools
(debootstrap squashfs-tools siftool bubblewrap) and sets
``TCIA_REQUIRE_IMAGE=1``, so that CI fails rather than skips here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tcia_lookalike import LookalikeServer
from tcia_lookalike.data import Archive
from tcia_lookalike.holdings import build_cohort
from tcia_lookalike.idc import S3Lookalike
from tcia_lookalike.idc_index import write_index

from datalad_tcia.store import collection_id
from tests.helpers import api, fresh_env, run, run_ok, store_state, tcia_add_argv

from .test_slurm import _logs, _wait, needs_slurm

ROOT = Path(__file__).parents[2]
BUILD = ROOT / 'singularity' / 'build.sh'
RUNNER = ROOT / 'singularity' / 'bwrap-exec'
RECIPE = ROOT / 'singularity' / 'datalad-tcia.def'
NAME = 'LOOKALIKE-IMAGED'
CID = collection_id(NAME)
TOOLS = ('debootstrap', 'mksquashfs', 'unsquashfs', 'siftool', 'bwrap')


def _cannot_build() -> str | None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f'{", ".join(missing)} missing (scripts/test.sh installs them as root)'
    if os.geteuid() != 0:
        return 'debootstrap needs root'
    return None


def _skip_or_fail() -> None:
    why = _cannot_build()
    if why is None:
        return
    if os.environ.get('TCIA_REQUIRE_IMAGE'):
        pytest.fail(f'the image cannot be built: {why}')
    pytest.skip(why)


@pytest.fixture(scope='module')
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The SIF file ``singularity/build.sh`` makes of this checkout (the
    Debian packages cached in ``~/.cache/datalad-tcia``). The runner
    unpacks it into a directory of this module, removed afterwards (an
    unpacked root is about 1 GB)."""
    _skip_or_fail()
    out = tmp_path_factory.mktemp('image') / 'datalad-tcia.sif'
    proc = run(['bash', str(BUILD), str(out)], cwd=out.parent)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert out.is_file()
    assert not list(out.parent.glob('.build-*')), 'the build left its work behind'
    roots = out.parent / 'roots'
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('TCIA_IMAGE_ROOTS', str(roots))  # inherited by every process
        yield out
    shutil.rmtree(roots, ignore_errors=True)
    out.unlink()


@dataclass
class Upstream:
    """NBIA's and IDC's look-alikes of a small collection."""

    nbia: LookalikeServer
    s3: S3Lookalike
    env: dict[str, str]


@pytest.fixture(scope='module')
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    archive = Archive([build_cohort(3, name=NAME)])
    index = write_index(archive, tmp_path_factory.mktemp('idc') / 'idc_index.parquet')
    with LookalikeServer(archive) as nbia, S3Lookalike() as s3:
        s3.fill(archive)
        env = {
            'DATALAD_TCIA_IDC__INDEX': str(index),
            'DATALAD_TCIA_IDC__ENDPOINT': s3.endpoint,
        }
        yield Upstream(nbia, s3, env)


def _user_env(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """A user's environment with a HOME of its own (bound into the
    container, as Apptainer binds it) and the look-alikes' settings; git
    reads the system configuration (the image's loads datalad-next)."""
    return {**fresh_env(home, system_config=True), **extra}


def _in_image(image: Path, bind: Path, *argv: str) -> list[str]:
    return [str(RUNNER), 'exec', '--bind', str(bind), str(image), *argv]


@pytest.mark.slow
def test_the_image_holds_what_apptainer_writes(image: Path) -> None:
    """The SIF file's data objects: the definition file, the labels and a
    squashfs primary system partition for this machine's architecture."""
    listing = run_ok(['siftool', 'list', str(image)], image.parent)
    assert 'Def.FILE' in listing
    assert 'JSON.Labels' in listing
    assert 'FS (Squashfs/*System/amd64)' in listing, listing
    ids = {
        kind: line.split('|')[0].strip()
        for line in listing.splitlines()
        for kind in ('Def.FILE', 'JSON.Labels')
        if kind in line
    }
    deffile = run(['siftool', 'dump', ids['Def.FILE'], str(image)])
    assert deffile.stdout == RECIPE.read_text()
    labels = json.loads(run(['siftool', 'dump', ids['JSON.Labels'], str(image)]).stdout)
    assert labels['Name'] == 'datalad-tcia'
    assert labels['org.label-schema.build-arch'] == 'amd64'
    # the runscript runs datalad; the root is read-only
    out = run([str(RUNNER), 'run', str(image), '--version'])
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith('datalad ')
    touch = run([str(RUNNER), 'exec', str(image), 'touch', '/opt/x'])
    assert touch.returncode != 0
    assert 'Read-only file system' in touch.stderr


@pytest.mark.slow
def test_an_image_from_the_image(image: Path, tmp_path: Path) -> None:
    """singularity/update.def (Bootstrap: localimage) puts this checkout's
    datalad-tcia into the image, keeping its Debian, runscript and %test
    (which the build runs), and the base image's labels under its own."""
    new = tmp_path / 'updated.sif'
    proc = run(
        ['bash', str(BUILD), str(new)],
        cwd=image.parent,  # From: datalad-tcia.sif, as apptainer build reads it
        env={**os.environ, 'TCIA_RECIPE': str(ROOT / 'singularity' / 'update.def')},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'running %test' in proc.stdout
    shown = run(
        [
            str(RUNNER),
            'exec',
            str(new),
            'sh',
            '-c',
            'cat /opt/datalad-tcia/src/setup.cfg /.singularity.d/labels.json',
        ],
    )
    assert shown.returncode == 0, shown.stderr
    setup_cfg = (ROOT / 'setup.cfg').read_text()
    assert shown.stdout.startswith(setup_cfg)
    labels = json.loads(shown.stdout[len(setup_cfg) :])
    assert labels['Name'] == 'datalad-tcia'  # the base image's
    assert labels['Description'].endswith('updated from a checkout')
    assert labels['org.label-schema.usage.singularity.deffile.bootstrap'] == (
        'localimage'
    )
    assert run([str(RUNNER), 'run', str(new), '--version']).returncode == 0
    new.unlink()


@pytest.mark.slow
def test_the_pipeline_inside_the_image(
    image: Path, upstream: Upstream, tmp_path: Path
) -> None:
    """tcia-add inside the image (NBIA and IDC on the host's loopback)
    makes the store tcia-add makes outside it; a clone of its deposit made
    inside gets a file from IDC's look-alike."""
    env = _user_env(tmp_path / 'home', upstream.env)
    outside, inside = tmp_path / 'outside', tmp_path / 'inside'
    run_ok(tcia_add_argv(upstream.nbia, outside, NAME), tmp_path, env=env)
    argv = tcia_add_argv(upstream.nbia, inside, NAME)
    argv[0] = 'datalad'
    inside.mkdir()
    proc = run(_in_image(image, inside, *argv), tmp_path, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line[:1] == '{']
    assert records, proc.stdout
    assert all(r['status'] in ('ok', 'notneeded') for r in records), records
    assert store_state(inside, CID) == store_state(outside, CID)

    # a user clones the deposit inside the image and gets one file
    work = tmp_path / 'work'
    work.mkdir()
    url = (
        'datalad-annex::?type=external&externaltype=uncurl&encryption=none'
        f'&url={inside.as_uri()}/{CID}/collection_{{{{annex_key}}}}'
    )
    clone = run(
        _in_image(image, inside, 'datalad', 'clone', url, str(work / 'c')), work, env
    )
    assert clone.returncode == 0, clone.stdout + clone.stderr
    upstream.nbia.reset()
    served = upstream.s3.bytes_sent('GET')
    first = 'COHORT-0001'  # the first patient's dataset (build_cohort)
    got = run(_in_image(image, inside, 'datalad', 'get', '-r', first), work / 'c', env)
    assert got.returncode == 0, got.stdout + got.stderr
    patient = work / 'c' / first
    files = sorted(
        p
        for p in patient.rglob('*.dcm')
        if '.git' not in p.relative_to(patient).parts and p.is_file()
    )
    assert files, got.stdout
    truth = {
        i.md5
        for s in upstream.nbia.archive.iter_series()
        if s.patient.patient_id == first
        for i in s.instances
    }
    assert sorted(hashlib.md5(p.read_bytes()).hexdigest() for p in files) == sorted(
        truth
    )
    # from IDC: its look-alike sent the bytes, NBIA was not asked
    assert upstream.s3.bytes_sent('GET') - served >= sum(
        p.stat().st_size for p in files
    )
    assert upstream.nbia.requests('getSingleImage') == []


@pytest.mark.slow
@needs_slurm
def test_slurm_jobs_inside_the_image(
    image: Path, upstream: Upstream, tmp_path: Path
) -> None:
    """tcia-add --slurm 2 --slurm-container IMAGE with bwrap-exec as the
    container runner: the jobs build the store the serial run builds."""
    env = _user_env(tmp_path / 'home', upstream.env)
    serial, store = tmp_path / 'serial', tmp_path / 'store'
    run_ok(tcia_add_argv(upstream.nbia, serial, NAME), tmp_path, env=env)
    env['DATALAD_TCIA_CONTAINER__RUNNER'] = str(RUNNER)
    out = run_ok(
        tcia_add_argv(
            upstream.nbia, store, NAME, '--slurm', '2', '--slurm-container', str(image)
        ),
        tmp_path,
        env=env,
    )
    rec = json.loads(out.splitlines()[0])
    script = Path(rec['script']).read_text()
    assert f'command -v {RUNNER}' in script
    directory = Path(rec['path'])
    assert _wait(rec['final_job'], timeout=600) == 'COMPLETED', _logs(directory)
    assert store_state(store, CID) == store_state(serial, CID)
    assert list((store / CID).rglob('*.part')) == []


def test_a_missing_image_is_a_clear_error(upstream: Upstream, tmp_path: Path) -> None:
    """--slurm-container with no image there: an impossible result that
    says how to make one; nothing submitted, nothing written."""
    store = tmp_path / 'store'
    results = api('tcia_add')(
        collection=NAME,
        store=str(store),
        api_url=upstream.nbia.api_url,
        datacite_url=upstream.nbia.datacite_url,
        slurm=1,
        slurm_container=str(tmp_path / 'missing.sif'),
    )
    assert [r['status'] for r in results] == ['impossible']
    message = results[0]['message']
    assert 'missing.sif: no such image' in message
    assert 'singularity/build.sh' in message
    assert 'nothing was submitted' in message
    assert not (store / 'slurm').exists()


def test_the_runner_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    """bwrap-exec without an image, or with an option Apptainer has and
    it has not: a message and exit code 127, nothing run."""
    if shutil.which('bwrap') is None:
        _skip_or_fail()
    gone = run([str(RUNNER), 'exec', str(tmp_path / 'no.sif'), 'true'])
    assert gone.returncode == 127
    assert f'no image {tmp_path / "no.sif"}' in gone.stderr
    odd = run([str(RUNNER), 'exec', '--nv', str(tmp_path / 'no.sif'), 'true'])
    assert odd.returncode == 127
    assert 'option --nv is not supported' in odd.stderr


@pytest.mark.slow
@needs_slurm
@pytest.mark.parametrize('missing', ['runner', 'image'])
def test_a_node_without_the_runner_or_the_image(
    upstream: Upstream, tmp_path: Path, missing: str
) -> None:
    """A job on a node that lacks the configured runner, or that does not
    see the image, fails at once and its log says which; nothing written."""
    env = _user_env(tmp_path / 'home', upstream.env)
    image = tmp_path / 'shared' / 'datalad-tcia.sif'
    image.parent.mkdir()
    image.write_bytes(b'')  # there when submitting
    runner = 'no-such-runner' if missing == 'runner' else str(RUNNER)
    env['DATALAD_TCIA_CONTAINER__RUNNER'] = runner
    store = tmp_path / 'store'
    out = run_ok(
        tcia_add_argv(
            upstream.nbia,
            store,
            NAME,
            '--slurm',
            '1',
            '--slurm-container',
            str(image),
            '--sbatch-args=--hold',  # held until the image is gone
        ),
        tmp_path,
        env=env,
    )
    rec = json.loads(out.splitlines()[0])
    if missing == 'image':
        image.unlink()  # a path this node does not see
    run_ok(['scontrol', 'release', rec['array_job']], tmp_path)
    assert _wait(f'{rec["array_job"]}_0') == 'FAILED', _logs(Path(rec['path']))
    log = next(Path(rec['path']).glob('array-*_0.log')).read_text()
    if missing == 'runner':
        assert (
            'the container runner no-such-runner (datalad.tcia.container-runner) '
            'is not on PATH of this node'
        ) in log
    else:
        assert f'this node has no image {image} (--slurm-container)' in log
    run(['scancel', rec['final_job']])
    assert not (store / CID).exists()


@pytest.mark.slow
@needs_slurm
def test_how_the_job_script_names_the_image(upstream: Upstream, tmp_path: Path) -> None:
    """A relative image path is made absolute at submission (jobs may run
    elsewhere); an image URI (docker://, library://) is left to the runner,
    without a check for a file."""
    (tmp_path / 'img').mkdir()
    (tmp_path / 'img' / 'a.sif').write_bytes(b'')
    for name, store, expected in (
        ('img/a.sif', tmp_path / 's1', str(tmp_path / 'img' / 'a.sif')),
        ('docker://example.org/tcia:1', tmp_path / 's2', 'docker://example.org/tcia:1'),
    ):
        argv = tcia_add_argv(upstream.nbia, store, NAME, '--slurm', '1')
        argv += ['--slurm-container', name, '--sbatch-args=--hold']
        rec = json.loads(run_ok(argv, tmp_path).splitlines()[0])
        run(['scancel', rec['array_job'], rec['final_job']])
        script = Path(rec['script']).read_text()
        assert f'exec --bind {store} {expected} datalad' in script
        assert ('[ -e ' in script) is not expected.startswith('docker://')
