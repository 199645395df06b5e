# -*- coding: utf-8 -*-
"""The collection as AWX gets it: a tarball built from the working tree, installed into a collections path."""

import os
import subprocess

import pytest

from ansible_collections.nfv.dpdk.tests.awx.awxbuild import BIN, ROOT, clean_env, install_collection


@pytest.fixture(scope='session')
def collection_tarball(tmp_path_factory):
    """nfv-dpdk-<version>.tar.gz of the tracked and new files of the work tree.

    Built from a copy of what git lists (as make sanity does), so untracked local
    trees (virtualenvs, build output) never end up in it.
    """
    work = tmp_path_factory.mktemp('collection')
    source = work / 'src'
    source.mkdir()
    listed = subprocess.run(['git', 'ls-files', '-z', '-co', '--exclude-standard'], cwd=ROOT,
                            capture_output=True, check=True).stdout
    for name in listed.decode().split('\0'):
        path = os.path.join(ROOT, name)
        if not name or not os.path.isfile(path):
            continue
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(path, 'rb') as handle:
            target.write_bytes(handle.read())
        os.chmod(str(target), os.stat(path).st_mode & 0o777)
    output = work / 'build'
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(output), str(source)],
                   cwd=str(work), env=clean_env(), capture_output=True, text=True, check=True, timeout=300)
    tarballs = sorted(output.glob('nfv-dpdk-*.tar.gz'))
    assert len(tarballs) == 1, tarballs
    return tarballs[0]


@pytest.fixture(scope='session')
def installed_collections(collection_tarball, tmp_path_factory):
    """A collections path holding nfv.dpdk installed from the tarball."""
    return install_collection(collection_tarball, tmp_path_factory.mktemp('installed') / 'collections')
