# -*- coding: utf-8 -*-
"""Every module's EXAMPLES, loaded as Ansible loads them, must work when pasted (issue 14).

YAML 1.1 (Ansible's loader, and yaml.safe_load) reads an unquoted 0000:41:00.0 as the
float 2460.0 and 52:54:00:12:34:56 as an int, and ansible-core then hands the module
"2460.0" for a str option. So the examples are loaded with yaml.safe_load, each task
that calls an nfv.dpdk module is checked against that module's argument spec with
ansible-core's ArgumentSpecValidator (with the module's own required_one_of & co.),
against the module's own validation of PCI addresses, MACs and PCI ids, and the
sriov_vfs/driver_bind examples run in check mode on the fake kernel of
tests/unit/fakekernel_pci.py, whose PFs are the ones the examples name. The modules
and examples are discovered at run time.
"""

import importlib
import pkgutil
import re

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.utils.yaml import from_yaml

from ansible_collections.nfv.dpdk.plugins import modules as modules_package
from ansible_collections.nfv.dpdk.plugins.module_utils import driver_binding
from ansible_collections.nfv.dpdk.plugins.module_utils.hostfs import HostFS
from ansible_collections.nfv.dpdk.plugins.module_utils.pci import PciAddress, PciAddressError
from ansible_collections.nfv.dpdk.plugins.module_utils.sriov import normalize_mac, resolve_device, validate_vf
from ansible_collections.nfv.dpdk.plugins.module_utils.testpmd import (
    InvalidTestpmdInput, podman_manifest, validate_pod_params,
)
from ansible_collections.nfv.dpdk.plugins.module_utils.yaml_numbers import (
    KINDS, MAC_ADDRESS, PCI_ADDRESS, PCI_ID, is_yaml_number_of, unquoted_number_error, unquoted_number_reason,
)
from ansible_collections.nfv.dpdk.tests.unit.fakekernel_pci import PF0, PF1, fake_kernel  # noqa: F401 # pylint: disable=unused-import

PREFIX = 'nfv.dpdk.'
# Options of the AnsibleModule constructor that the ArgumentSpecValidator also checks.
VALIDATOR_OPTIONS = ('mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by')

# Fields that take a PCI address (or an interface name: no ':' then), a MAC, a PCI id.
# Paths use [] for "every list element"; a module not listed has no such field.
FIELD_KINDS = {
    'sriov_vfs': {'pfs[].device': PCI_ADDRESS, 'pfs[].vfs[].mac': MAC_ADDRESS},
    'driver_bind': {'devices[]': PCI_ADDRESS, 'vfs_of[]': PCI_ADDRESS,
                    'match.vendor': PCI_ID, 'match.device': PCI_ID,
                    'sriov_plan[].address': PCI_ADDRESS, 'sriov_plan[].vfs[].address': PCI_ADDRESS},
    # The options of sriov_vfs and driver_bind, one level down.
    'node_check': {'sriov_vfs.pfs[].device': PCI_ADDRESS, 'sriov_vfs.pfs[].vfs[].mac': MAC_ADDRESS,
                   'driver_bind[].devices[]': PCI_ADDRESS, 'driver_bind[].vfs_of[]': PCI_ADDRESS,
                   'driver_bind[].match.vendor': PCI_ID, 'driver_bind[].match.device': PCI_ID},
}

# Refusals that depend on the host the example runs on, not on the example's input.
HOST_DEPENDENT = (
    re.compile(r"'[^']+': no such PCI device on this host"),
)


def module_names():
    return sorted(name for _finder, name, ispkg in pkgutil.iter_modules(modules_package.__path__) if not ispkg)


def load_module(name):
    return importlib.import_module('ansible_collections.nfv.dpdk.plugins.modules.%s' % name)


class _Constructed(Exception):
    def __init__(self, kwargs):
        super(_Constructed, self).__init__('AnsibleModule constructed')
        self.kwargs = kwargs


def module_kwargs(module, monkeypatch):
    """The keyword arguments main() gives AnsibleModule: argument_spec, required_one_of, ..."""
    def capture(*args, **kwargs):
        if args:
            kwargs['argument_spec'] = args[0]
        raise _Constructed(kwargs)
    monkeypatch.setattr(module, 'AnsibleModule', capture)
    with pytest.raises(_Constructed) as built:
        module.main()
    return built.value.kwargs


def tasks_of(entries):
    """Every task of a task list, blocks flattened."""
    for entry in entries or []:
        assert isinstance(entry, dict), entry
        nested = [key for key in ('block', 'rescue', 'always') if key in entry]
        if nested:
            for key in nested:
                yield from tasks_of(entry[key])
        else:
            yield entry


def example_tasks():
    """(module name, task name, task args) for every task in every module's EXAMPLES that calls a module of ours."""
    found = []
    for name in module_names():
        examples = getattr(load_module(name), 'EXAMPLES', None)
        for task in tasks_of(yaml.safe_load(examples or '') or []):
            calls = [key for key in task if key.startswith(PREFIX)]
            for key in calls:
                # "nfv.dpdk.node_facts:" with nothing after it: no arguments.
                found.append((key[len(PREFIX):], task.get('name', key), {} if task[key] is None else task[key]))
    return found


EXAMPLE_TASKS = example_tasks()
EXAMPLE_IDS = ['%s: %s' % (module, name) for module, name, _args in EXAMPLE_TASKS]


def is_jinja(value):
    return isinstance(value, str) and ('{{' in value or '{%' in value)


def _stand_in(spec):
    """A value of the option's type for a Jinja expression: its value is only known at run time."""
    if spec.get('choices'):
        return spec['choices'][0]
    return {'list': [], 'dict': {}, 'int': 0, 'float': 0.0, 'bool': False, 'raw': 'x', 'path': '/x'}.get(
        spec.get('type', 'str'), 'x')


def without_jinja(params, spec, where='', skipped=None):
    """``params`` with every Jinja-valued field replaced by a stand-in of its type; ``skipped`` gets their paths."""
    skipped = [] if skipped is None else skipped
    names = {}
    for option, option_spec in spec.items():
        names[option] = option_spec
        for alias in option_spec.get('aliases') or []:
            names[alias] = option_spec
    result = {}
    for key, value in params.items():
        option_spec = names.get(key)
        path = '%s%s' % (where, key)
        if option_spec is None:
            result[key] = value  # unknown: the validator reports it
        elif is_jinja(value):
            skipped.append(path)
            result[key] = _stand_in(option_spec)
        elif option_spec.get('options') and isinstance(value, dict):
            result[key] = without_jinja(value, option_spec['options'], path + '.', skipped)
        elif isinstance(value, list):
            items = []
            for item in value:
                if is_jinja(item):
                    skipped.append(path + '[]')
                    items.append(_stand_in({'type': option_spec.get('elements', 'str'),
                                            'choices': option_spec.get('choices')}))
                elif option_spec.get('options') and isinstance(item, dict):
                    items.append(without_jinja(item, option_spec['options'], path + '[].', skipped))
                else:
                    items.append(item)
            result[key] = items
        else:
            result[key] = value
    return result


def str_fields(params, spec, where=''):
    """(path, value) of every value given to a ``type: str`` option or a list of str, nested options too."""
    for key, value in params.items():
        option_spec = spec.get(key)
        if option_spec is None:
            continue
        path = '%s%s' % (where, key)
        kind = option_spec.get('type', 'str')
        if kind == 'str':
            yield path, value
        elif kind == 'list' and isinstance(value, list):
            for item in value:
                if option_spec.get('elements', 'str') == 'str':
                    yield path + '[]', item
                elif option_spec.get('options') and isinstance(item, dict):
                    yield from str_fields(item, option_spec['options'], path + '[].')
        elif option_spec.get('options') and isinstance(value, dict):
            yield from str_fields(value, option_spec['options'], path + '.')


def values_at(params, path):
    """The values at ``pfs[].vfs[].mac`` (every element of every list on the way)."""
    values = [params]
    for part in re.findall(r'[^.\[\]]+(?:\[\])?', path):
        name, every = (part[:-2], True) if part.endswith('[]') else (part, False)
        step = []
        for value in values:
            if isinstance(value, dict) and value.get(name) is not None:
                step.extend(value[name] if every and isinstance(value[name], list) else [value[name]])
        values = step
    return values


# -- the premise ------------------------------------------------------------------------------
@pytest.mark.parametrize('loader', [yaml.safe_load, from_yaml], ids=['yaml.safe_load', 'ansible from_yaml'])
def test_yaml_reads_unquoted_addresses_as_numbers(loader):
    loaded = loader('a: 0000:41:00.0\nb: 41:00.0\nc: 52:54:00:12:34:56\nd: 0x8086\ne: "0000:41:00.0"\nf: 0000:3b:00.0\n')
    assert loaded['a'] == loaded['b'] == 2460.0 and isinstance(loaded['a'], float)
    assert loaded['c'] == 41135085296 and isinstance(loaded['c'], int)
    assert loaded['d'] == 32902
    assert loaded['e'] == '0000:41:00.0' and loaded['f'] == '0000:3b:00.0'


def test_every_module_has_examples_that_call_it():
    called = set(module for module, _name, _args in EXAMPLE_TASKS)
    assert called >= set(module_names()), set(module_names()) - called


# -- every example task -----------------------------------------------------------------------
@pytest.mark.parametrize('module_name,task_name,args', EXAMPLE_TASKS, ids=EXAMPLE_IDS)
def test_example_arguments_pass_the_argument_spec(monkeypatch, module_name, task_name, args):
    assert module_name in module_names(), '%s calls %s%s, which is not a module of this collection' % (
        task_name, PREFIX, module_name)
    assert isinstance(args, dict), '%s: give the arguments as a dict, not %r' % (task_name, args)
    kwargs = module_kwargs(load_module(module_name), monkeypatch)
    spec = kwargs['argument_spec']
    validator = ArgumentSpecValidator(spec, **dict((key, kwargs[key]) for key in VALIDATOR_OPTIONS if key in kwargs))
    result = validator.validate(without_jinja(args, spec))
    assert not result.error_messages, '%s: %s' % (task_name, result.error_messages)


@pytest.mark.parametrize('module_name,task_name,args', EXAMPLE_TASKS, ids=EXAMPLE_IDS)
def test_example_gives_no_number_to_a_string_option(monkeypatch, module_name, task_name, args):
    # ansible-core would turn it into "2460.0" silently; the example must say what it means.
    spec = module_kwargs(load_module(module_name), monkeypatch)['argument_spec']
    numbers = [(path, value) for path, value in str_fields(args, spec)
               if isinstance(value, (int, float)) and not isinstance(value, bool)]
    assert not numbers, '%s: YAML read these unquoted values as numbers, quote them: %s' % (task_name, numbers)


@pytest.mark.parametrize('module_name,task_name,args', EXAMPLE_TASKS, ids=EXAMPLE_IDS)
def test_example_addresses_macs_and_ids_pass_the_module_validation(monkeypatch, module_name, task_name, args):
    spec = module_kwargs(load_module(module_name), monkeypatch)['argument_spec']
    skipped = []
    params = without_jinja(args, spec, skipped=skipped)
    for path, kind in FIELD_KINDS.get(module_name, {}).items():
        if path in skipped:
            continue
        for value in values_at(params, path):
            if is_jinja(value):
                continue
            assert isinstance(value, str), '%s: %s is %r, not text: quote it' % (task_name, path, value)
            if kind != PCI_ID:  # 8086 is an id and a number: ids are checked by their own rule below
                assert unquoted_number_reason(value, kind) is None, (task_name, path, value)
            if kind == PCI_ADDRESS and ':' in value:
                PciAddress.parse(value)
            elif kind == PCI_ADDRESS:
                assert re.match(r'^[^/\s:]{1,15}$', value), '%s: %s %r is neither a PCI address nor an interface name' % (
                    task_name, path, value)
            elif kind == MAC_ADDRESS:
                assert normalize_mac(value) is not None, (task_name, path, value)
            else:
                assert driver_binding._HEX4.match(value), (task_name, path, value)
    if module_name == 'sriov_vfs':
        for position, pf in enumerate(params['pfs']):
            for index, vf in enumerate(pf.get('vfs') or []):
                problems = validate_vf(vf, pf['num_vfs'], 'pfs[%d].vfs[%d]' % (position, index))
                assert not problems, '%s: %s' % (task_name, problems)


HOST_EXAMPLES = [(module, name, args) for module, name, args in EXAMPLE_TASKS if module in ('sriov_vfs', 'driver_bind')]


@pytest.mark.parametrize('module_name,task_name,args', HOST_EXAMPLES,
                         ids=['%s: %s' % (module, name) for module, name, _args in HOST_EXAMPLES])
def test_example_passes_the_module_on_the_fake_kernel(fake_kernel, run_module, fake_host, module_name, task_name, args):
    """In check mode on the fake kernel (PFs 0000:41:00.0/ens1f0 and 0000:81:00.0/ens2f0, 7 VFs each)."""
    if any(is_jinja(value) for value in _scalars(args)):
        pytest.skip('%s: takes values from earlier tasks' % task_name)
    if module_name == 'driver_bind':
        for pf in (PF0, PF1):  # VFs to bind: the examples select VFs of both PFs
            HostFS().write('/sys/bus/pci/devices/%s/sriov_numvfs' % pf, '4')
        fake_kernel.writes[:] = []
    before = fake_host.snapshot()
    result = run_module(load_module(module_name), args, check_mode=True)
    assert fake_host.snapshot() == before
    if result.failed:
        problems = result.get('problems') or [result['msg']]
        left = [problem for problem in problems if not any(pattern.search(problem) for pattern in HOST_DEPENDENT)]
        assert not left, '%s: %s' % (task_name, result['msg'])


def _scalars(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _scalars(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scalars(item)
    else:
        yield value


# -- the "quote it" message, per field kind ---------------------------------------------------
@pytest.mark.parametrize('kind,value,example', [
    (PCI_ADDRESS, 2460.0, '0000:41:00.0'),
    (PCI_ADDRESS, '2460.0', '0000:41:00.0'),
    (MAC_ADDRESS, 41135085296, '52:54:00:12:34:56'),
    (MAC_ADDRESS, '41135085296', '52:54:00:12:34:56'),
    (PCI_ID, '32902', '8086'),
    (PCI_ID, 64, '8086'),
])
def test_numbers_get_the_quote_it_message(kind, value, example):
    message = unquoted_number_error('pfs[0].device', value, kind)
    assert message.startswith('pfs[0].device: got %s, which is what YAML makes of an unquoted %s ' % (value, kind))
    assert message.endswith(' - quote it: "%s"' % example)
    assert message == 'pfs[0].device: ' + unquoted_number_reason(value, kind)


@pytest.mark.parametrize('kind,value', [
    (PCI_ADDRESS, '0000:41:00.0'), (PCI_ADDRESS, 'ens1f0'), (PCI_ADDRESS, 3), (PCI_ADDRESS, '3'), (PCI_ADDRESS, True),
    (PCI_ADDRESS, None), (MAC_ADDRESS, '02:00:00:00:41:00'), (MAC_ADDRESS, 2460.0), (MAC_ADDRESS, False),
    (PCI_ID, '10ca'), (PCI_ID, 'intel'), (PCI_ID, '1.5'),
])
def test_other_values_get_no_quote_it_message(kind, value):
    # A bare 3 for a PCI address is a plain mistake: YAML makes floats of addresses (the .F).
    assert not is_yaml_number_of(value, kind)
    assert unquoted_number_error('x', value, kind) is None


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match='kind must be one of'):
        unquoted_number_reason('1', 'PCI slot')
    assert len(KINDS) == 3


def test_pci_address_parse_says_quote_it():
    for value in (2460.0, '2460.0'):
        with pytest.raises(PciAddressError, match=r'^got 2460\.0, which is what YAML makes of an unquoted PCI address'):
            PciAddress.parse(value)
    with pytest.raises(PciAddressError, match='DDDD:BB:DD.F'):
        PciAddress.parse('3')


def test_resolve_device_says_quote_it_unless_an_interface_has_that_name(fake_host):
    with pytest.raises(ValueError, match=r'^got 2460\.0, which is what YAML makes of an unquoted PCI address .*'
                                         r'quote it: "0000:41:00\.0"$'):
        resolve_device('2460.0', HostFS())
    with pytest.raises(ValueError, match='neither a PCI address'):
        resolve_device('ens9', HostFS())
    fake_host.netdev('2460.0')  # a (virtual) interface may be called that: it is not YAML's doing then
    with pytest.raises(ValueError, match='is an interface without a PCI device'):
        resolve_device('2460.0', HostFS())


def test_sriov_vfs_says_quote_it_for_an_unquoted_device_and_mac(fake_kernel, run_module, fake_host):
    args = yaml.safe_load('pfs:\n  - device: 0000:41:00.0\n    num_vfs: 1\n    vfs:\n'
                          '      - index: 0\n        mac: 52:54:00:12:34:56\n')
    assert args['pfs'][0]['device'] == 2460.0  # as the pasted example arrives
    before = fake_host.snapshot()
    result = run_module(load_module('sriov_vfs'), args)
    assert result.failed and fake_host.snapshot() == before
    assert 'pfs[0].device: got 2460.0, which is what YAML makes of an unquoted PCI address such as 0000:41:00.0 - ' \
           'quote it: "0000:41:00.0"' in result['msg'], result['msg']
    args['pfs'][0]['device'] = PF0
    result = run_module(load_module('sriov_vfs'), args)
    assert result.failed and fake_host.snapshot() == before
    assert 'pfs[0].vfs[0].mac: got 41135085296, which is what YAML makes of an unquoted MAC address such as ' \
           '52:54:00:12:34:56 - quote it: "52:54:00:12:34:56"' in result['msg'], result['msg']


def test_driver_bind_says_quote_it_for_devices_vfs_of_and_ids(fake_kernel, run_module, fake_host):
    args = yaml.safe_load('devices: [0000:41:10.0]\nvfs_of: [0000:41:00.0]\nmatch: {vendor: 0x8086, device: 010}\n')
    before = fake_host.snapshot()
    result = run_module(load_module('driver_bind'), args)
    assert result.failed and fake_host.snapshot() == before
    for line in ('devices[0]: got 2470.0, which is what YAML makes of an unquoted PCI address',
                 'vfs_of[0]: got 2460.0, which is what YAML makes of an unquoted PCI address',
                 'match.vendor: got 32902, which is what YAML makes of an unquoted PCI id written as 0x8086',
                 'match.device: got 8, which is what YAML makes of an unquoted PCI id'):
        assert line in result['msg'], result['msg']
    assert result['msg'].count('quote it: "') == 4


def test_testpmd_says_quote_it_for_eth_peers_and_pci_devices():
    with pytest.raises(InvalidTestpmdInput, match=r'^eth_peers\[1\]: got 41135085296, which is what YAML makes of '
                                                  r'an unquoted MAC address'):
        validate_pod_params({'vdevs': ['net_null0'], 'eth_peers': ['02:00:00:00:00:01', 41135085296]})
    manifest = {'kind': 'Pod', 'spec': {'containers': [{'name': 'testpmd'}]}}
    with pytest.raises(InvalidTestpmdInput, match=r'^pci_devices\[0\]: got 2470\.0, which is what YAML makes of '
                                                  r'an unquoted PCI address'):
        podman_manifest(manifest, '/dev/hugepages', pci_devices=[2470.0])
