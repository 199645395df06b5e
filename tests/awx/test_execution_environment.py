# -*- coding: utf-8 -*-
"""docs/execution-environment.yml rendered by ansible-builder create, and what its build would introspect.

No image is built (base images are not reachable here): ansible-builder create writes
the build context, and the builder stage's introspection (the context's own
introspect.py) runs on a collections path laid out as the galaxy stage leaves it.
"""

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from bindep.depends import Depends
from packaging.specifiers import SpecifierSet

from ansible_collections.nfv.dpdk.tests.awx.awxbuild import BIN, ROOT, clean_env, install_collection

EE_FILE = os.path.join(ROOT, 'docs', 'execution-environment.yml')
BUNDLED = os.path.join(os.path.dirname(yaml.__file__), '..', 'ansible_collections')
# What bindep -l selects in the image's assemble step on an RPM base (awx-ee is CentOS Stream).
RPM_PROFILES = ['default', 'platform:rpm', 'platform:redhat', 'platform:centos']


def read_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


GALAXY = read_yaml(os.path.join(ROOT, 'galaxy.yml'))
EE = read_yaml(EE_FILE)
TARBALL_NAME = 'nfv-dpdk-%s.tar.gz' % GALAXY['version']


def test_definition_installs_this_version_and_the_declared_dependencies():
    assert EE['version'] == 3
    collections = EE['dependencies']['galaxy']['collections']
    assert collections[0] == {'name': '/build/collections/' + TARBALL_NAME, 'type': 'file'}
    assert dict((item['name'], item['version']) for item in collections[1:]) == GALAXY['dependencies']
    assert EE['additional_build_files'] == [{'src': TARBALL_NAME, 'dest': 'collections'}]
    core = EE['dependencies']['ansible_core']['package_pip']
    assert core.startswith('ansible-core'), core
    requires_ansible = read_yaml(os.path.join(ROOT, 'meta', 'runtime.yml'))['requires_ansible']
    assert SpecifierSet(core[len('ansible-core'):]) == SpecifierSet(requires_ansible), (core, requires_ansible)


@pytest.fixture(scope='module')
def context(collection_tarball, tmp_path_factory):
    """ansible-builder create in a directory with the definition and the tarball, as docs/awx.md says."""
    work = tmp_path_factory.mktemp('ee')
    shutil.copy(EE_FILE, str(work / 'execution-environment.yml'))
    shutil.copy(str(collection_tarball), str(work / TARBALL_NAME))
    result = subprocess.run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', 'execution-environment.yml',
                             '-c', 'context', '--output-filename', 'Containerfile'],
                            cwd=str(work), env=clean_env(), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return work / 'context'


def test_containerfile_installs_ansible_the_collections_and_their_requirements(context):
    containerfile = (context / 'Containerfile').read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % EE['images']['base_image']['name'] in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.16 ansible-runner"' in containerfile
    galaxy_install = re.search(r'^RUN .*ansible-galaxy collection install .*-r requirements.yml '
                               r'--collections-path "/usr/share/ansible/collections"$', containerfile, re.M)
    assert galaxy_install, containerfile
    # The builder stage reads every installed collection's meta/execution-environment.yml...
    assert re.search(r'^RUN \$PYCMD /output/scripts/introspect.py introspect .*--write-pip=/tmp/src/requirements.txt',
                     containerfile, re.M), containerfile
    # ... and the final stage installs what it found.
    assert 'RUN /output/scripts/install-from-bindep' in containerfile
    assert 'COPY _build /build' in containerfile


def test_context_holds_the_tarball_and_the_requirements(context, collection_tarball):
    assert read_yaml(str(context / '_build' / 'requirements.yml')) == {
        'collections': EE['dependencies']['galaxy']['collections']}
    copied = context / '_build' / 'collections' / TARBALL_NAME
    assert copied.read_bytes() == collection_tarball.read_bytes()


def test_introspection_finds_the_collections_python_and_system_requirements(context, tmp_path):
    """The builder stage's introspect.py on the collections the galaxy stage installs.

    nfv.dpdk from the context's tarball; its dependencies as the ansible package
    bundles them (the galaxy stage would fetch the same collections from Galaxy).
    """
    collections = install_collection(context / '_build' / 'collections' / TARBALL_NAME, tmp_path / 'collections')
    for name, wanted in GALAXY['dependencies'].items():
        namespace, collection = name.split('.')
        source = os.path.join(BUNDLED, namespace, collection)
        version = read_yaml(os.path.join(source, 'MANIFEST.json'))['collection_info']['version']
        assert version in SpecifierSet(wanted), '%s %s does not satisfy galaxy.yml %s' % (name, version, wanted)
        shutil.copytree(source, str(collections / 'ansible_collections' / namespace / collection))
    pip_file, bindep_file = tmp_path / 'requirements.txt', tmp_path / 'bindep.txt'
    result = subprocess.run([sys.executable, str(context / '_build' / 'scripts' / 'introspect.py'), 'introspect',
                             str(collections), '--write-pip', str(pip_file), '--write-bindep', str(bindep_file)],
                            env=clean_env(), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr

    python = [line for line in pip_file.read_text().splitlines() if line.strip()]
    # Introspection leaves out ansible-core and PyYAML (every EE has them) and merges equal
    # lines of several collections (kubernetes.core asks for kubernetes too).
    with open(os.path.join(ROOT, 'requirements.txt')) as handle:
        declared = [line.strip() for line in handle if line.strip() and not line.startswith('#')]
    expected = [line for line in declared if not re.match(r'(ansible-core|PyYAML)\b', line, re.I)]
    assert expected == ['kubernetes>=24.2.0'], declared
    for requirement in expected:
        assert [line for line in python if line.split('#')[0].strip() == requirement], (requirement, python)
    assert not [line for line in python if re.match(r'(jmespath|netaddr)\b', line, re.I)], python

    system = bindep_file.read_text()
    ours = [line.split('#')[0].strip() for line in system.splitlines() if line.endswith('# from collection nfv.dpdk')]
    with open(os.path.join(ROOT, 'bindep.txt')) as handle:
        assert ours == [line.strip() for line in handle if line.strip() and not line.startswith('#')], system
    installed = set(rule[0] for rule in Depends(system).active_rules(RPM_PROFILES))
    # bindep's [test] profile (podman, for this repository's tests) is not installed into the image.
    assert {'python3', 'python3-pyyaml', 'openssh-clients'} <= installed and 'podman' not in installed, system
