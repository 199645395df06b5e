# -*- coding: utf-8 -*-
"""images/testpmd/build-context.sh on this machine's Debian packages: the FROM scratch rootfs it
collects must hold dpdk-testpmd, the tools the launcher uses and every PMD of the plugin directory,
each with its whole shared-library closure, found by the dynamic loader INSIDE the rootfs
(chroot): EAL dlopen()s every PMD at start-up, so one missing library fails testpmd in the pod.
make e2e-podman runs the built image; this checks the context alone, in a few seconds.
"""

import os
import shutil
import subprocess

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'images', 'testpmd', 'build-context.sh')
LOADER = '/usr/lib64/ld-linux-x86-64.so.2'
pytestmark = pytest.mark.skipif(
    not (shutil.which('dpdk-testpmd') and shutil.which('chroot') and os.geteuid() == 0 and os.path.exists(LOADER)),
    reason='needs root (chroot), x86-64 and the dpdk package (make host-deps installs it)')


def _pmd_dir():
    out = subprocess.run(['ldd', shutil.which('dpdk-testpmd')], capture_output=True, text=True, check=True).stdout
    libdir = os.path.dirname(next(line.split()[2] for line in out.splitlines() if 'librte_eal.so' in line))
    found = sorted(os.path.join(libdir, 'dpdk', name) for name in os.listdir(os.path.join(libdir, 'dpdk')) if name.startswith('pmds-'))
    return os.path.realpath(found[0])


@pytest.fixture(scope='module')
def context(tmp_path_factory):
    directory = tmp_path_factory.mktemp('context')
    proc = subprocess.run(['sh', SCRIPT, str(directory)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return directory, proc.stdout


def _missing_in_rootfs(rootfs, path):
    """What the loader does not find for path when the rootfs is /: the lines 'x => not found'."""
    proc = subprocess.run(['chroot', str(rootfs), LOADER, '--list', path], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, '%s: %s' % (path, proc.stderr or proc.stdout)
    return [line.strip() for line in proc.stdout.splitlines() if 'not found' in line]


def test_every_pmd_and_program_resolves_inside_the_rootfs(context):
    directory, stdout = context
    rootfs = directory / 'rootfs'
    pmd_dir = _pmd_dir()
    host_pmds = sorted(os.listdir(pmd_dir))
    image_pmds = sorted(os.listdir(str(rootfs) + pmd_dir))
    assert host_pmds and image_pmds == host_pmds
    programs = [shutil.which(name) for name in ('dpdk-testpmd', 'timeout', 'date', 'dash', 'stdbuf', 'sleep')]
    libraries = [os.path.join(pmd_dir, name) for name in host_pmds if not os.path.islink(os.path.join(pmd_dir, name))]
    missing = dict((path, _missing_in_rootfs(rootfs, path)) for path in programs + libraries)
    assert dict((path, lines) for path, lines in missing.items() if lines) == {}
    assert len(libraries) > 20
    assert 'build-context: ' in stdout and ' files from ' in stdout


def test_symlinks_stay_symlinks_under_the_real_directories(context):
    directory, _stdout = context
    rootfs = str(directory / 'rootfs')
    pmd_dir = _pmd_dir()
    for name in os.listdir(pmd_dir):
        host, image = os.path.join(pmd_dir, name), rootfs + os.path.join(pmd_dir, name)
        assert os.path.islink(image) == os.path.islink(host), name
        if os.path.islink(host):
            assert os.readlink(image) == os.readlink(host), name
        else:
            assert os.path.getsize(image) == os.path.getsize(host), name
            assert os.stat(image).st_mode == os.stat(host).st_mode, name
    # Debian's merged /usr: /lib is a link to usr/lib on the host and in the image, and the files
    # are under the real directory.
    for top in ('bin', 'lib', 'lib64', 'sbin'):
        if os.path.islink('/' + top):
            assert os.readlink(os.path.join(rootfs, top)) == os.readlink('/' + top)
    libc = subprocess.run(['ldd', shutil.which('dash')], capture_output=True, text=True, check=True).stdout
    libc_path = next(line.split()[2] for line in libc.splitlines() if 'libc.so' in line)
    assert os.path.isfile(rootfs + os.path.realpath(libc_path))
    assert os.path.islink(os.path.join(rootfs, 'usr', 'bin', 'sh'))


def test_the_launcher_and_the_image_files(context):
    directory, _stdout = context
    rootfs = directory / 'rootfs'
    launcher = rootfs / 'usr' / 'local' / 'bin' / 'testpmd-launcher'
    assert launcher.read_bytes() == open(os.path.join(os.path.dirname(SCRIPT), 'testpmd-launcher'), 'rb').read()
    assert os.stat(str(launcher)).st_mode & 0o777 == 0o755
    assert (rootfs / 'etc' / 'passwd').read_text() == 'root:x:0:0:root:/root:/bin/sh\n'
    assert (directory / 'Containerfile').is_file()
    # Only what the image needs is left in the context: rootfs, the Containerfile and the file list.
    assert sorted(os.listdir(str(directory))) == ['Containerfile', 'files.txt', 'rootfs']
    proc = subprocess.run(['chroot', str(rootfs), '/usr/bin/sh', '-c', 'timeout 5 date +%s'], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.strip().isdigit(), proc.stderr


def test_the_launcher_from_standard_input(tmp_path):
    """As the dpdk_testpmd role runs it: sh -c with the launcher on stdin (TESTPMD_LAUNCHER_STDIN=1)."""
    script = open(SCRIPT).read()
    launcher = '#!/bin/sh\necho launcher from stdin\n'
    proc = subprocess.run(['sh', '-c', script, 'build-context.sh', str(tmp_path / 'ctx')], input=launcher, capture_output=True,
                          text=True, timeout=300, check=False, env=dict(os.environ, TESTPMD_LAUNCHER_STDIN='1'))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / 'ctx' / 'rootfs' / 'usr' / 'local' / 'bin' / 'testpmd-launcher').read_text() == launcher
