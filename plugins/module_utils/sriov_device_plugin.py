# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SR-IOV network device plugin's configuration and the NetworkAttachmentDefinitions from a VF plan.

A *resource* of the plan names a pool of VFs of one PF (``pf``, optionally a range ``vfs`` of VF
indexes) on one driver. This module turns the resources of one host, or of every host of a play,
into the device plugin's ``config.json`` (``{"resourceList": [...]}``, the format of
github.com/k8snetworkplumbingwg/sriov-network-device-plugin, README "Configurations") and into the
``k8s.cni.cncf.io/v1`` NetworkAttachmentDefinitions Multus hands to the sriov CNI.

Formats written, as the plugin reads them (pkg/types/types.go, pkg/factory/factory.go of v3.9.0):
- ``selectors`` is a LIST of selector objects. The plugin reads the list since v3.6.0 (commit
  9ad1a434d "Enable array of NetDevice selectors for one resource name"); the single object is the
  older form it still accepts. The list is needed here: ``pfNames`` and ``rootDevices`` in one
  selector object must BOTH match, so PFs given by name and PFs given by PCI address go in
  separate selector objects of one resource.
- ``pfNames``/``rootDevices`` entries take the plugin's VF range syntax ``<PF>#<first>-<last>,<n>``.
- ``resourceName`` must match the plugin's ``^[a-zA-Z0-9_-]+$`` (pkg/utils ValidResourceName); it
  also is the name part of a Kubernetes extended resource ``<prefix>/<name>``, which must start and
  end with an alphanumeric character and have 63 characters at most.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re

from ansible.module_utils.six import string_types

from ansible_collections.nfv.dpdk.plugins.module_utils.pci import DPDK_DRIVERS, PciAddress, PciAddressError
from ansible_collections.nfv.dpdk.plugins.module_utils.yaml_numbers import PCI_ADDRESS, PCI_ID, unquoted_number_error

DEFAULT_PREFIX = 'intel.com'             # the plugin's default --resource-prefix
DEVICE_TYPE = 'netDevice'
RESOURCE_NAME_ANNOTATION = 'k8s.v1.cni.cncf.io/resourceName'
NAD_API_VERSION = 'k8s.cni.cncf.io/v1'
DEFAULT_CNI_VERSION = '0.3.1'            # what the plugin's and the operator's NetworkAttachmentDefinitions use
CONFIG_PATH = '/etc/pcidp/config.json'   # where the plugin reads its configuration (--config-file default)

# The plugin's own check of resourceName (pkg/utils/utils.go ValidResourceName) ...
_PLUGIN_RESOURCE_NAME = re.compile(r'^[a-zA-Z0-9_-]+$')
# ... and the name part of a Kubernetes qualified name (an extended resource).
_QUALIFIED_NAME = re.compile(r'^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$')
_DNS_SUBDOMAIN = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')
_DNS_LABEL = re.compile(r'^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')
# A Linux interface name: at most 15 bytes, no '/', ':' (alias) or whitespace; '#' starts the plugin's range.
_IFNAME = re.compile(r'^[A-Za-z0-9_.@-]{1,15}$')
_DRIVER = re.compile(r'^[a-z0-9][a-z0-9_-]*$')
_HEX4 = re.compile(r'^(0x)?[0-9a-fA-F]{4}$')
_RANGE_ITEM = re.compile(r'^([0-9]+)(?:-([0-9]+))?$')

RESOURCES_FIELD = 'sriov_device_plugin_resources'   # the role variable the errors name
SRIOV_PFS_FIELD = 'dpdk_node_sriov_pfs'

RESOURCE_KEYS = ('resource_name', 'resource_prefix', 'pf', 'vfs', 'driver', 'vendor', 'device', 'need_vhost_net',
                 'network')
NETWORK_KEYS = ('name', 'namespace', 'cni_version', 'vlan', 'vlan_qos', 'spoofchk', 'trust', 'link_state',
                'min_tx_rate', 'max_tx_rate', 'ipam')
ON_OFF = ('on', 'off')
LINK_STATES = ('auto', 'enable', 'disable')


class InvalidSriovPlan(ValueError):
    """A VF plan the device plugin configuration cannot be made of; the text names every bad field."""


def is_dpdk_driver(driver):
    """vfio-pci and the uio drivers are userspace (DPDK) drivers; everything else is a kernel netdevice driver."""
    return driver in DPDK_DRIVERS


def parse_vf_range(text, field):
    """``"0-3,8"`` -> sorted list of VF indexes; raises InvalidSriovPlan naming ``field``."""
    if isinstance(text, bool) or not isinstance(text, string_types + (int,)):
        raise InvalidSriovPlan('%s: %r is not a VF range: use "first-last" (e.g. "0-3"), a single index or a '
                               'comma-separated list of both ("0-3,8")' % (field, text))
    indexes = set()
    for item in str(text).replace(' ', '').split(','):
        match = _RANGE_ITEM.match(item)
        if not match:
            raise InvalidSriovPlan('%s: %r is not a VF range: use "first-last" (e.g. "0-3"), a single index or a '
                                   'comma-separated list of both ("0-3,8")' % (field, text))
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise InvalidSriovPlan('%s: %r: the range %d-%d ends before it starts' % (field, text, first, last))
        indexes.update(range(first, last + 1))
    return sorted(indexes)


def format_vf_range(indexes):
    """[0, 1, 2, 3, 8] -> ``"0-3,8"`` (the plugin's syntax after ``#``)."""
    runs = []     # [first, last] of each run of consecutive indexes
    for index in sorted(set(indexes)):
        if runs and index == runs[-1][1] + 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    return ','.join('%d-%d' % (first, last) if last != first else '%d' % first for first, last in runs)


def _pf_key(text, field, problems):
    """('rootDevices', '0000:86:00.0') or ('pfNames', 'ens1f0'), or None after adding a problem."""
    if not isinstance(text, string_types) or not text.strip():
        problems.append(unquoted_number_error(field, text, PCI_ADDRESS)
                        or '%s: %r is not a PF: give its interface name (ens1f0) or PCI address ("0000:86:00.0")'
                        % (field, text))
        return None
    text = text.strip()
    try:
        return ('rootDevices', str(PciAddress.parse(text)))
    except PciAddressError as exc:
        if ':' in text or unquoted_number_error(field, text, PCI_ADDRESS):
            # Meant as an address (an interface name has no ':'), or YAML's number of an unquoted one.
            problems.append('%s: %s' % (field, exc))
            return None
    if not _IFNAME.match(text):
        problems.append("%s: '%s' is neither a PCI address nor an interface name (1-15 characters of A-Z a-z 0-9 "
                        "_ . @ -; give the VF range in vfs, not after '#')" % (field, text))
        return None
    return ('pfNames', text)


def _pci_id(value, field, problems):
    if value is None:
        return None
    if isinstance(value, string_types) and _HEX4.match(value.strip()):
        text = value.strip().lower()
        return text[2:] if text.startswith('0x') else text
    problems.append(unquoted_number_error(field, value, PCI_ID)
                    or "%s: %r is not a 4-digit hexadecimal PCI id (e.g. '8086', '154c')" % (field, value))
    return None


def _num_vfs_by_pf(sriov_pfs, where, problems):
    """PF key -> num_vfs from the dpdk_node_sriov_pfs / nfv.dpdk.sriov_vfs ``pfs`` entries (device, num_vfs)."""
    counts = {}
    if sriov_pfs is None:
        return counts
    if not isinstance(sriov_pfs, list):
        problems.append('%s%s: must be a list of {device, num_vfs} (the nfv.dpdk.sriov_vfs pfs), got %s'
                        % (where, SRIOV_PFS_FIELD, type(sriov_pfs).__name__))
        return counts
    for position, entry in enumerate(sriov_pfs):
        field = '%s%s[%d]' % (where, SRIOV_PFS_FIELD, position)
        if not isinstance(entry, dict) or 'device' not in entry or 'num_vfs' not in entry:
            problems.append('%s: must be a dict with device and num_vfs' % field)
            continue
        key = _pf_key(entry['device'], field + '.device', problems)
        num_vfs = entry['num_vfs']
        if isinstance(num_vfs, string_types) and num_vfs.strip().isdigit():
            num_vfs = int(num_vfs)
        if isinstance(num_vfs, bool) or not isinstance(num_vfs, int) or num_vfs < 0:
            problems.append('%s.num_vfs: %r is not a VF count (an integer, 0 or more)' % (field, num_vfs))
            continue
        if key is not None:
            counts[key] = num_vfs
    return counts


def _bool(value, field, problems):
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    problems.append('%s: %r is not a boolean (true or false)' % (field, value))
    return False


def _int_in(value, field, low, high, problems):
    if value is None:
        return None
    if isinstance(value, string_types) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append('%s: %r is not an integer in %d-%d' % (field, value, low, high))
        return None
    return value


def _choice(value, field, choices, problems):
    if value is None:
        return None
    if isinstance(value, bool) and set(choices) == set(ON_OFF):
        # YAML 1.1 reads an unquoted on/off as a boolean.
        return 'on' if value else 'off'
    if value not in choices:
        problems.append('%s: %r is not one of %s' % (field, value, ', '.join(choices)))
        return None
    return value


def _network(network, field, problems):
    """The validated NetworkAttachmentDefinition options of one resource, or None."""
    if network is None:
        return None
    if not isinstance(network, dict):
        problems.append('%s: must be a dict (name, namespace, vlan, ipam...), got %s' % (field, type(network).__name__))
        return None
    for key in sorted(set(network) - set(NETWORK_KEYS)):
        problems.append('%s.%s: unknown option; allowed: %s' % (field, key, ', '.join(NETWORK_KEYS)))
    name = network.get('name')
    if not isinstance(name, string_types) or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        problems.append('%s.name: %r is not a Kubernetes object name (lowercase a-z 0-9 - ., at most 253 characters)'
                        % (field, name))
    namespace = network.get('namespace') or 'default'
    if not isinstance(namespace, string_types) or len(namespace) > 63 or not _DNS_LABEL.match(namespace):
        problems.append('%s.namespace: %r is not a namespace name (lowercase a-z 0-9 -, at most 63 characters)'
                        % (field, namespace))
    cni_version = network.get('cni_version') or DEFAULT_CNI_VERSION
    if not isinstance(cni_version, string_types) or not re.match(r'^[0-9]+\.[0-9]+\.[0-9]+$', cni_version):
        problems.append('%s.cni_version: %r is not a CNI spec version (e.g. "0.3.1", "1.0.0")' % (field, cni_version))
    ipam = network.get('ipam')
    if isinstance(ipam, string_types):
        try:
            ipam = json.loads(ipam)
        except ValueError as exc:
            problems.append('%s.ipam: not JSON: %s' % (field, exc))
            ipam = None
    if ipam is not None and (not isinstance(ipam, dict) or not isinstance(ipam.get('type'), string_types)):
        problems.append('%s.ipam: must be a CNI IPAM object with a type (e.g. {"type": "host-local", "subnet": '
                        '"10.56.217.0/24"}), got %r' % (field, ipam))
        ipam = None
    result = {
        'name': name,
        'namespace': namespace,
        'cni_version': cni_version,
        'vlan': _int_in(network.get('vlan'), field + '.vlan', 0, 4094, problems),
        'vlan_qos': _int_in(network.get('vlan_qos'), field + '.vlan_qos', 0, 7, problems),
        'spoofchk': _choice(network.get('spoofchk'), field + '.spoofchk', ON_OFF, problems),
        'trust': _choice(network.get('trust'), field + '.trust', ON_OFF, problems),
        'link_state': _choice(network.get('link_state'), field + '.link_state', LINK_STATES, problems),
        'min_tx_rate': _int_in(network.get('min_tx_rate'), field + '.min_tx_rate', 0, 1000000, problems),
        'max_tx_rate': _int_in(network.get('max_tx_rate'), field + '.max_tx_rate', 0, 1000000, problems),
        'ipam': ipam,
    }
    return result


def validate_resources(resources, sriov_pfs=None, host=None):
    """The resources of ONE host, validated and normalised; raises InvalidSriovPlan listing every problem.

    ``sriov_pfs``: the host's VF plan (``dpdk_node_sriov_pfs``: device, num_vfs), to check ranges
    against num_vfs and to spell out "all VFs" of a PF that is split.
    """
    where = '%s: ' % host if host else ''
    problems = []
    if resources is None:
        resources = []
    if not isinstance(resources, list):
        raise InvalidSriovPlan('%s%s: must be a list of dicts, got %s' % (where, RESOURCES_FIELD, type(resources).__name__))
    counts = _num_vfs_by_pf(sriov_pfs, where, problems)
    normal = []
    for position, resource in enumerate(resources):
        field = '%s%s[%d]' % (where, RESOURCES_FIELD, position)
        if not isinstance(resource, dict):
            problems.append('%s: must be a dict, got %s' % (field, type(resource).__name__))
            continue
        for key in sorted(set(resource) - set(RESOURCE_KEYS)):
            problems.append('%s.%s: unknown option; allowed: %s' % (field, key, ', '.join(RESOURCE_KEYS)))
        name = resource.get('resource_name')
        if not isinstance(name, string_types) or not _PLUGIN_RESOURCE_NAME.match(name) \
                or not _QUALIFIED_NAME.match(name) or len(name) > 63:
            problems.append('%s.resource_name: %r is not a device plugin resource name (A-Z a-z 0-9 _ -, starting and '
                            'ending with a letter or digit, at most 63 characters; e.g. intel_sriov_dpdk)'
                            % (field, name))
        prefix = resource.get('resource_prefix') or DEFAULT_PREFIX
        if not isinstance(prefix, string_types) or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix):
            problems.append('%s.resource_prefix: %r is not a DNS subdomain (lowercase a-z 0-9 - ., e.g. intel.com)'
                            % (field, prefix))
        driver = resource.get('driver')
        if not isinstance(driver, string_types) or not _DRIVER.match(driver):
            problems.append('%s.driver: %r is not a driver name: vfio-pci (DPDK), uio_pci_generic, igb_uio, or the '
                            'kernel VF driver (iavf, ixgbevf, igbvf, mlx5_core...)' % (field, driver))
        elif driver == 'kernel':
            problems.append("%s.driver: give the kernel VF driver's name (iavf, ixgbevf, igbvf...), not 'kernel': "
                            "the device plugin selects by the driver bound" % field)
        pf = _pf_key(resource.get('pf'), field + '.pf', problems)
        vfs = None
        if resource.get('vfs') is not None:
            try:
                vfs = parse_vf_range(resource['vfs'], field + '.vfs')
            except InvalidSriovPlan as exc:
                problems.append(str(exc))
        if pf is not None and vfs is not None and pf in counts and vfs[-1] >= counts[pf]:
            problems.append('%s.vfs: %s reaches VF %d but %s has num_vfs %d (VFs 0-%d)' % (
                field, resource['vfs'], vfs[-1], pf[1], counts[pf], counts[pf] - 1))
        normal.append({
            'host': host,
            'field': field,
            'short_field': '%s[%d]' % (RESOURCES_FIELD, position),
            'resource_name': name,
            'resource_prefix': prefix,
            'pf': pf,
            'vfs': vfs,
            'driver': driver,
            'vendor': _pci_id(resource.get('vendor'), field + '.vendor', problems),
            'device': _pci_id(resource.get('device'), field + '.device', problems),
            'need_vhost_net': _bool(resource.get('need_vhost_net'), field + '.need_vhost_net', problems),
            'network': _network(resource.get('network'), field + '.network', problems),
        })
    if not problems:
        _check_host_consistency(normal, counts, problems)
    if problems:
        raise InvalidSriovPlan('; '.join(problems))
    return normal


def _check_host_consistency(normal, counts, problems):
    """One host: one driver per resource, no VF in two resources, a resource's PF once."""
    drivers = {}
    taken = {}     # PF key -> [(indexes or None for all, field)]
    for resource in normal:
        full = '%s/%s' % (resource['resource_prefix'], resource['resource_name'])
        if full in drivers and drivers[full][0] != resource['driver']:
            problems.append('%s.driver: %s is %s here but %s in %s: one resource, one driver (give each driver its own '
                            'resource_name)' % (resource['field'], full, resource['driver'], drivers[full][0],
                                                drivers[full][1]))
        drivers.setdefault(full, (resource['driver'], resource['short_field']))
        pf = resource['pf']
        indexes = resource['vfs']
        if indexes is None and pf in counts:
            indexes = list(range(counts[pf]))
        for other, other_field in taken.get(pf, []):
            if indexes is None or other is None:
                overlap = 'all VFs (num_vfs unknown: add the PF to %s, or give vfs)' % SRIOV_PFS_FIELD
            else:
                common = sorted(set(indexes) & set(other))
                overlap = format_vf_range(common) if common else None
            if overlap:
                problems.append('%s.vfs: VFs %s of %s are in %s too: the ranges of one PF must not overlap' % (
                    resource['field'], overlap, pf[1], other_field))
        taken.setdefault(pf, []).append((indexes, resource['short_field']))
        if resource['vfs'] is None and pf in counts and counts[pf] == 0:
            problems.append('%s.pf: %s has num_vfs 0 in %s: the resource would be empty' % (
                resource['field'], pf[1], SRIOV_PFS_FIELD))


def _split(resource):
    """The pfNames/rootDevices entry of a resource: ``ens1f0`` (all VFs) or ``ens1f0#0-3``."""
    kind, name = resource['pf']
    if resource['vfs'] is None:
        return kind, name
    return kind, '%s#%s' % (name, format_vf_range(resource['vfs']))


def _selector_group_key(resource, kind):
    return (resource['vendor'] or '', resource['device'] or '', resource['need_vhost_net'], kind)


def device_plugin_config(hosts):
    """The device plugin's configuration for the resources of every host.

    ``hosts``: list of ``{'host': name, 'resources': [...], 'sriov_pfs': [...]}``. One ConfigMap is
    read on every node, so the resources of all hosts are merged by ``<prefix>/<name>``: selector
    entries of identical PF spellings merge; one PF name with two different VF ranges in one resource
    (two nodes that differ) is refused, since the plugin would apply both on every node.
    """
    merged = merge_hosts(hosts)
    resource_list = []
    for full in sorted(merged):
        entry = merged[full]
        groups = {}
        for resource in entry['resources']:
            kind, value = _split(resource)
            key = _selector_group_key(resource, kind)
            values = groups.setdefault(key, [])
            if value not in values:
                values.append(value)
        selectors = []
        for key in sorted(groups):
            vendor, device, need_vhost_net, kind = key
            selector = {}
            if vendor:
                selector['vendors'] = [vendor]
            if device:
                selector['devices'] = [device]
            selector['drivers'] = [entry['driver']]
            selector[kind] = sorted(groups[key])
            if need_vhost_net:
                selector['needVhostNet'] = True
            selectors.append(selector)
        resource_list.append({
            'resourceName': entry['resource_name'],
            'resourcePrefix': entry['resource_prefix'],
            'deviceType': DEVICE_TYPE,
            'selectors': selectors,
        })
    return {'resourceList': resource_list}


def _hosts_list(hosts):
    if not isinstance(hosts, list):
        raise InvalidSriovPlan('hosts: must be a list of {host, resources, sriov_pfs}, got %s' % type(hosts).__name__)
    for position, entry in enumerate(hosts):
        if not isinstance(entry, dict) or 'resources' not in entry:
            raise InvalidSriovPlan('hosts[%d]: must be a dict with host, resources and optionally sriov_pfs' % position)
    return hosts


def merge_hosts(hosts):
    """``<prefix>/<name>`` -> {resource_name, resource_prefix, driver, resources, network}; raises InvalidSriovPlan."""
    problems = []
    merged = {}
    for position, entry in enumerate(_hosts_list(hosts)):
        host = entry.get('host') or 'hosts[%d]' % position
        try:
            normal = validate_resources(entry.get('resources'), entry.get('sriov_pfs'), host=host)
        except InvalidSriovPlan as exc:
            problems.append(str(exc))
            continue
        for resource in normal:
            full = '%s/%s' % (resource['resource_prefix'], resource['resource_name'])
            target = merged.setdefault(full, {
                'resource_name': resource['resource_name'], 'resource_prefix': resource['resource_prefix'],
                'driver': resource['driver'], 'field': resource['field'], 'resources': [], 'ranges': {},
                'network': None, 'network_field': None})
            if target['driver'] != resource['driver']:
                problems.append('%s.driver: %s is %s here but %s in %s: one resource, one driver on every node' % (
                    resource['field'], full, resource['driver'], target['driver'], target['field']))
                continue
            kind, value = _split(resource)
            pf_name = resource['pf']
            previous = target['ranges'].get(pf_name)
            if previous is not None and previous[0] != value:
                problems.append('%s.vfs: %s selects %s but %s selects %s there: the ConfigMap is read on every node, so one '
                                'PF spelling takes one VF range per resource (make the nodes equal, or give the '
                                'resources different names)' % (resource['field'], full, value, previous[1], previous[0]))
                continue
            target['ranges'].setdefault(pf_name, (value, resource['field']))
            target['resources'].append(resource)
            if resource['network'] is not None:
                if target['network'] is not None and target['network'] != resource['network']:
                    problems.append('%s.network: differs from the network of %s in %s: one NetworkAttachmentDefinition '
                                    'per resource' % (resource['field'], full, target['network_field']))
                elif target['network'] is None:
                    target['network'] = resource['network']
                    target['network_field'] = resource['field']
    if not problems:
        names = {}
        for full in sorted(merged):
            network = merged[full]['network']
            if network is None:
                continue
            key = (network['namespace'], network['name'])
            if key in names:
                problems.append('%s.network.name: %s/%s is the network of %s too' % (
                    merged[full]['network_field'], key[0], key[1], names[key]))
            names.setdefault(key, full)
    if problems:
        raise InvalidSriovPlan('; '.join(problems))
    return merged


def sriov_cni_config(network):
    """The sriov CNI configuration (spec.config) of a NetworkAttachmentDefinition, as a dict."""
    config = {'cniVersion': network['cni_version'], 'name': network['name'], 'type': 'sriov'}
    for key, cni_key in (('vlan', 'vlan'), ('vlan_qos', 'vlanQoS'), ('spoofchk', 'spoofchk'), ('trust', 'trust'),
                         ('link_state', 'link_state'), ('min_tx_rate', 'min_tx_rate'), ('max_tx_rate', 'max_tx_rate')):
        if network.get(key) is not None:
            config[cni_key] = network[key]
    # A DPDK VF (vfio-pci) has no kernel interface in the pod to put an address on: no IPAM unless asked for.
    if network.get('ipam') is not None:
        config['ipam'] = copy.deepcopy(network['ipam'])
    return config


def network_attachments(hosts):
    """The NetworkAttachmentDefinition manifests of every merged resource that has ``network`` set."""
    merged = merge_hosts(hosts)
    manifests = []
    for full in sorted(merged):
        entry = merged[full]
        network = entry['network']
        if network is None:
            continue
        manifests.append({
            'apiVersion': NAD_API_VERSION,
            'kind': 'NetworkAttachmentDefinition',
            'metadata': {
                'name': network['name'],
                'namespace': network['namespace'],
                'annotations': {RESOURCE_NAME_ANNOTATION: full},
            },
            'spec': {'config': json.dumps(sriov_cni_config(network), sort_keys=True)},
        })
    return manifests


def dpdk_resource(resources, sriov_pfs=None, host=None):
    """``<prefix>/<name>`` of the first vfio-pci resource of one host, or None."""
    for resource in validate_resources(resources, sriov_pfs, host=host):
        if resource['driver'] == 'vfio-pci':
            return '%s/%s' % (resource['resource_prefix'], resource['resource_name'])
    return None


def as_hosts(value, sriov_pfs=None, host=None):
    """The list of ``{host, resources, sriov_pfs}`` the functions above take, from what a playbook has at hand.

    ``value`` is one host's resource list (``sriov_pfs`` its VF plan, ``host`` its name), or a dict
    host name -> resource list (``sriov_pfs`` then a dict host name -> VF plan), or already the list
    of ``{host, resources, sriov_pfs}``.
    """
    if isinstance(value, dict):
        if sriov_pfs is not None and not isinstance(sriov_pfs, dict):
            raise InvalidSriovPlan('sriov_pfs: with resources per host (a dict), give the VF plans per host too '
                                   '(a dict host -> list), got %s' % type(sriov_pfs).__name__)
        plans = sriov_pfs or {}
        return [{'host': name, 'resources': value[name], 'sriov_pfs': plans.get(name)} for name in sorted(value)]
    if isinstance(value, list) and value and all(isinstance(item, dict) and 'resources' in item for item in value):
        return value
    return [{'host': host, 'resources': value, 'sriov_pfs': sriov_pfs}]
