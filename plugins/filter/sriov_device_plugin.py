# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the SR-IOV network device plugin: its configuration, the NetworkAttachmentDefinitions, the DPDK resource.

Documentation of each filter: plugins/filter/<filter name>.yml.
The logic lives in plugins/module_utils/sriov_device_plugin.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.nfv.dpdk.plugins.module_utils import sriov_device_plugin as _plugin


def _wrap(function):
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except _plugin.InvalidSriovPlan as exc:
            raise AnsibleFilterError('%s: %s' % (function.__name__, exc))
    call.__name__ = function.__name__
    call.__doc__ = function.__doc__
    return call


def sriov_device_plugin_config(resources, sriov_pfs=None, host=None):
    """The device plugin's config.json (resourceList) of one host's resources or of several hosts merged."""
    return _plugin.device_plugin_config(_plugin.as_hosts(resources, sriov_pfs=sriov_pfs, host=host))


def sriov_network_attachments(resources, sriov_pfs=None, host=None):
    """NetworkAttachmentDefinition manifests of the resources that have a network."""
    return _plugin.network_attachments(_plugin.as_hosts(resources, sriov_pfs=sriov_pfs, host=host))


def sriov_device_plugin_dpdk_resource(resources, sriov_pfs=None, host=None):
    """<prefix>/<name> of the first vfio-pci resource of one host, or None."""
    return _plugin.dpdk_resource(resources, sriov_pfs=sriov_pfs, host=host)


class FilterModule(object):
    """SR-IOV network device plugin filters."""

    def filters(self):
        return {
            'sriov_device_plugin_config': _wrap(sriov_device_plugin_config),
            'sriov_network_attachments': _wrap(sriov_network_attachments),
            'sriov_device_plugin_dpdk_resource': _wrap(sriov_device_plugin_dpdk_resource),
        }
