# -*- coding: utf-8 -*-
"""Helpers of the AWX tests: the environment they run tools in, installing the collection tarball."""

import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)


def clean_env(**extra):
    """This process's environment without ANSIBLE_* (the Makefile exports the repository's ansible.cfg)."""
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('ANSIBLE_'))
    env['PATH'] = BIN + os.pathsep + env.get('PATH', '')
    env.update(extra)
    return env


def install_collection(tarball, collections_path):
    """ansible-galaxy collection install of the tarball alone (its dependencies come from elsewhere).

    Run outside the repository, whose ansible.cfg would otherwise apply. --force: a copy elsewhere in the
    default collections paths (Molecule's prerun installs one in ~/.ansible/collections) must not make
    ansible-galaxy skip this path as already installed.
    """
    collections_path.mkdir(parents=True, exist_ok=True)
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--offline', '--no-deps', '--force',
                    '-p', str(collections_path), str(tarball)],
                   cwd=str(collections_path), env=clean_env(), capture_output=True, text=True, check=True, timeout=300)
    assert (collections_path / 'ansible_collections' / 'nfv' / 'dpdk' / 'MANIFEST.json').is_file(), collections_path
    return collections_path
