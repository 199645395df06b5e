# -*- coding: utf-8 -*-
"""Shared fixtures: a fake host tree, a module runner and a command double."""

import pytest

from ansible_collections.nfv.dpdk.tests.unit.fakehost import FakeHost
from ansible_collections.nfv.dpdk.tests.unit.modulerunner import CommandDouble, ModuleRunner


@pytest.fixture
def fake_host(tmp_path, monkeypatch):
    """An empty fake host tree; every HostFS created in the test reads it."""
    host = FakeHost(tmp_path / 'host')
    monkeypatch.setenv('NFV_DPDK_TEST_ROOT', str(host.root))
    return host


@pytest.fixture
def commands(monkeypatch):
    """Record and answer every AnsibleModule.run_command call made in the test."""
    double = CommandDouble()
    double.install(monkeypatch)
    return double


@pytest.fixture
def run_module(monkeypatch, commands):
    """Run a module's main() in-process: ``run_module(module, args, check_mode=, diff=)``."""
    return ModuleRunner(monkeypatch)
