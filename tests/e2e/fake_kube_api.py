# -*- coding: utf-8 -*-
# Copyright: (c) 2026, nfv.dpdk maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A minimal Kubernetes API for the dpdk_testpmd role's kubernetes backend, without a cluster.

Serves what kubernetes.core's k8s, k8s_info and k8s_log use for one Pod: discovery
(/version, /api, /api/v1, /apis), create, get, delete and log. A created Pod is
Pending for the first GET, Running for the next ``--running-polls`` GETs, then
Succeeded; its log is the file given with ``--log``. Every request is recorded
as one JSON line in ``--record`` so a playbook can check what was sent (the
manifest, the order of calls).

Scheduling (testpmd node pinning): a created Pod gets ``spec.nodeName`` as a scheduler
would give it, from its required node affinity on ``metadata.name`` (see
``schedule_testpmd_pod``); ``--misschedule NODE`` sends a Pod pinned to NODE to another
node instead, so that a playbook can check that the role catches a pod on the wrong node.

Nodes, drain and eviction (dpdk_node's drain, readiness gate and uncordon): ``--node NAME`` serves a
Node (get, list, merge patch: cordon is ``spec.unschedulable``, annotations), Ready after
``--node-not-ready-polls`` GETs, with ``status.allocatable`` from ``--allocatable RESOURCE=QUANTITY``;
``--node-pod NS/NAME:LABEL=VALUE`` puts a ReplicaSet-owned Pod on the first node (listed with
``fieldSelector=spec.nodeName=``); ``--pdb NS/NAME:LABEL=VALUE`` is a PodDisruptionBudget that allows
no disruption, so the eviction of a Pod it selects is refused with 429 as the API server does; any
other evicted Pod is gone.

The sriov_device_plugin role: ConfigMaps in any namespace (create, get, list, strategic-merge or merge
patch, replace, delete) and NetworkAttachmentDefinitions (``k8s.cni.cncf.io/v1`` in the discovery; a
custom resource, so a strategic-merge patch is refused with 415 as the API server does and the client
falls back to a merge patch). A patch or replace that changes nothing keeps the resourceVersion, as the
API server does. ``--daemonset-pod NS/NAME:LABEL=VALUE`` is a DaemonSet-owned Pod: a namespaced Pod
list honours ``labelSelector`` (equality terms), and a deleted one is recreated by its "DaemonSet" as
NAME-<n> with a new uid, so a playbook can tell a restart from none. Every write honours
``dryRun=All`` (answered, not stored): check mode changes nothing here.

    python3 fake_kube_api.py --port 38617 --log tests/unit/fixtures/testpmd/pod_podman_io_null.log --record /tmp/calls.jsonl
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import re
import sys

from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

NODE_PATH = re.compile(r'^/api/v1/nodes(?:/([^/]+))?$')
EVICTION_PATH = re.compile(r'^/api/v1/namespaces/([^/]+)/pods/([^/]+)/eviction$')
PDB_PATH = re.compile(r'^/apis/policy/v1(?:/namespaces/([^/]+))?/poddisruptionbudgets$')
POD_PATH = re.compile(r'^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+))?(/log)?$')
# Plain stored objects (the sriov_device_plugin role's): path -> (plural, namespace, name).
OBJECT_PATHS = (
    re.compile(r'^/api/v1/namespaces/([^/]+)/(configmaps)(?:/([^/]+))?$'),
    re.compile(r'^/apis/k8s\.cni\.cncf\.io/v1/namespaces/([^/]+)/(network-attachment-definitions)(?:/([^/]+))?$'),
)
OBJECT_KINDS = {'configmaps': ('ConfigMap', 'v1'),
                'network-attachment-definitions': ('NetworkAttachmentDefinition', 'k8s.cni.cncf.io/v1')}
# What the API server accepts as a patch of a custom resource: no strategic merge (no schema to merge by).
CUSTOM_RESOURCES = ('network-attachment-definitions',)
TIMESTAMP = re.compile(r'^\d{4}-\d\d-\d\dT\S+ ')

RESOURCES = {
    'kind': 'APIResourceList', 'groupVersion': 'v1',
    'resources': [
        {'name': 'pods', 'singularName': 'pod', 'namespaced': True, 'kind': 'Pod',
         'verbs': ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], 'shortNames': ['po']},
        {'name': 'pods/log', 'singularName': '', 'namespaced': True, 'kind': 'Pod', 'verbs': ['get']},
        {'name': 'namespaces', 'singularName': 'namespace', 'namespaced': False, 'kind': 'Namespace',
         'verbs': ['get', 'list']},
        {'name': 'nodes', 'singularName': 'node', 'namespaced': False, 'kind': 'Node',
         'verbs': ['get', 'list', 'patch', 'watch'], 'shortNames': ['no']},
        {'name': 'pods/eviction', 'singularName': '', 'namespaced': True, 'group': 'policy', 'version': 'v1',
         'kind': 'Eviction', 'verbs': ['create']},
        {'name': 'configmaps', 'singularName': 'configmap', 'namespaced': True, 'kind': 'ConfigMap',
         'verbs': ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], 'shortNames': ['cm']},
    ],
}

CNI_GROUP = {'name': 'k8s.cni.cncf.io', 'versions': [{'groupVersion': 'k8s.cni.cncf.io/v1', 'version': 'v1'}],
             'preferredVersion': {'groupVersion': 'k8s.cni.cncf.io/v1', 'version': 'v1'}}
CNI_RESOURCES = {
    'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': 'k8s.cni.cncf.io/v1',
    'resources': [{'name': 'network-attachment-definitions', 'singularName': 'network-attachment-definition',
                   'namespaced': True, 'kind': 'NetworkAttachmentDefinition', 'shortNames': ['net-attach-def'],
                   'verbs': ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch']}],
}

POLICY_GROUP = {'name': 'policy', 'versions': [{'groupVersion': 'policy/v1', 'version': 'v1'}],
                'preferredVersion': {'groupVersion': 'policy/v1', 'version': 'v1'}}
POLICY_RESOURCES = {
    'kind': 'APIResourceList', 'apiVersion': 'v1', 'groupVersion': 'policy/v1',
    'resources': [{'name': 'poddisruptionbudgets', 'singularName': 'poddisruptionbudget', 'namespaced': True,
                   'kind': 'PodDisruptionBudget', 'verbs': ['get', 'list'], 'shortNames': ['pdb']}],
}


class State:
    misschedule = ()
    nodes = {}
    node_polls = {}
    node_not_ready_polls = 0
    node_pods = {}
    pdbs = {}
    objects = {}
    daemonset_pods = {}
    daemonset_restarts = {}
    resource_version = 100
    stop = False
    pods = {}
    polls = {}
    running_polls = 2
    log_text = ''
    record = None


def pinned_node_names(pod):
    """Node names a Pod's required node affinity allows by metadata.name (empty: not pinned)."""
    affinity = ((pod.get('spec') or {}).get('affinity') or {}).get('nodeAffinity') or {}
    terms = (affinity.get('requiredDuringSchedulingIgnoredDuringExecution') or {}).get('nodeSelectorTerms') or []
    names = []
    for term in terms:
        for field in term.get('matchFields') or []:
            if field.get('key') == 'metadata.name' and field.get('operator') == 'In':
                names.extend(field.get('values') or [])
    return names


def schedule_testpmd_pod(pod):
    """Set spec.nodeName like a scheduler: the pinned node, or another one for a node in --misschedule."""
    names = pinned_node_names(pod)
    node = names[0] if names else 'fake-node-unpinned'
    if node in State.misschedule:
        node = 'fake-node-not-' + node
    pod.setdefault('spec', {})['nodeName'] = node


def labelled(spec):
    """'NS/NAME:LABEL=VALUE' -> (namespace, name, {label: value})."""
    ref, _sep, label = spec.partition(':')
    namespace, _sep, name = ref.partition('/')
    key, _sep, value = label.partition('=')
    return namespace, name, ({key: value} if key else {})


def make_node(name, allocatable):
    return {'kind': 'Node', 'apiVersion': 'v1',
            'metadata': {'name': name, 'uid': 'fake-node-uid', 'resourceVersion': '1', 'labels': {'kubernetes.io/hostname': name}},
            'spec': {}, 'status': {'allocatable': dict(allocatable), 'capacity': dict(allocatable), 'conditions': []}}


def make_node_pod(namespace, name, labels, node):
    return {'kind': 'Pod', 'apiVersion': 'v1',
            'metadata': {'name': name, 'namespace': namespace, 'uid': 'fake-uid-' + name, 'labels': labels,
                         'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'ReplicaSet', 'name': name + '-rs',
                                              'uid': 'fake-rs-uid', 'controller': True}]},
            'spec': {'nodeName': node, 'containers': [{'name': 'app', 'image': 'fake'}]},
            'status': {'phase': 'Running'}}


def make_pdb(namespace, name, labels):
    return {'kind': 'PodDisruptionBudget', 'apiVersion': 'policy/v1',
            'metadata': {'name': name, 'namespace': namespace, 'uid': 'fake-pdb-uid-' + name},
            'spec': {'minAvailable': 1, 'selector': {'matchLabels': labels}},
            'status': {'disruptionsAllowed': 0, 'currentHealthy': 1, 'desiredHealthy': 1, 'expectedPods': 1}}


def merge_patch(target, patch):
    """RFC 7386 merge patch (a strategic merge patch of maps is the same): null removes a key."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = value
    return target


def field_selected(pod, query):
    """The fieldSelector spec.nodeName=NAME of a pod list (the only field selector the drain uses)."""
    for selector in parse_qs(query).get('fieldSelector', []):
        for term in selector.split(','):
            key, _sep, value = term.partition('=')
            if key == 'spec.nodeName' and (pod.get('spec') or {}).get('nodeName') != value:
                return False
    return True


def label_selected(pod, query):
    """The equality terms (LABEL=VALUE, LABEL==VALUE) of a labelSelector; anything else is not faked."""
    labels = pod['metadata'].get('labels') or {}
    for selector in parse_qs(query).get('labelSelector', []):
        for term in selector.split(','):
            key, sep, value = term.partition('=')
            if not sep or key.endswith('!'):
                raise ValueError('labelSelector term %r is not faked' % term)
            if labels.get(key) != value.lstrip('='):
                return False
    return True


def dry_run(query):
    return 'All' in parse_qs(query).get('dryRun', [])


def next_resource_version():
    State.resource_version += 1
    return str(State.resource_version)


def make_daemonset_pod(namespace, name, labels, restarts):
    """A DaemonSet's Pod; after a delete its controller makes NAME-<restarts> with a new uid."""
    pod_name = '%s-%d' % (name, restarts) if restarts else name
    return {'kind': 'Pod', 'apiVersion': 'v1',
            'metadata': {'name': pod_name, 'namespace': namespace, 'uid': 'fake-uid-' + pod_name, 'labels': labels,
                         'resourceVersion': next_resource_version(),
                         'ownerReferences': [{'apiVersion': 'apps/v1', 'kind': 'DaemonSet', 'name': name,
                                              'uid': 'fake-ds-uid-' + name, 'controller': True}]},
            'spec': {'containers': [{'name': 'plugin', 'image': 'fake'}]},
            'status': {'phase': 'Running'}}


def blocking_pdbs(namespace, pod):
    labels = pod['metadata'].get('labels') or {}
    return [pdb for (ns, _name), pdb in State.pdbs.items() if ns == namespace
            and all(labels.get(key) == value for key, value in pdb['spec']['selector']['matchLabels'].items())
            and pdb['status']['disruptionsAllowed'] < 1]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, code, body, content_type='application/json'):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return True  # handled (the handlers' dispatch on the sriov_device_plugin paths reads it)

    def _record(self, body=None):
        if State.record:
            with open(State.record, 'a') as handle:
                handle.write(json.dumps({'method': self.command, 'path': self.path, 'body': body}) + '\n')

    def _not_found(self, name):
        self._send(404, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'NotFound', 'code': 404,
                         'message': 'pods "%s" not found' % name, 'details': {'name': name, 'kind': 'pods'}})

    def _pod(self, key):
        pod = State.pods[key]
        polls = State.polls[key] = State.polls.get(key, 0) + 1
        if polls == 1:
            pod['status'] = {'phase': 'Pending'}
        elif polls <= 1 + State.running_polls:
            pod['status'] = {'phase': 'Running', 'containerStatuses': [{'name': 'testpmd', 'state': {'running': {}}}]}
        else:
            pod['status'] = {'phase': 'Succeeded', 'containerStatuses': [
                {'name': 'testpmd', 'state': {'terminated': {'exitCode': 0, 'reason': 'Completed'}}}]}
        return pod

    def _read_body(self):
        length = int(self.headers.get('Content-Length') or 0)
        return json.loads(self.rfile.read(length) or b'{}')

    def _object(self, method, path, query, body=None):
        """ConfigMaps and NetworkAttachmentDefinitions: True when served, None when the path is neither."""
        for pattern in OBJECT_PATHS:
            match = pattern.match(path)
            if match:
                break
        else:
            return None
        namespace, plural, name = match.groups()
        kind, api_version = OBJECT_KINDS[plural]
        key = (plural, namespace, name)
        if method == 'GET' and not name:
            items = [obj for (plural_, ns, _name), obj in sorted(State.objects.items()) if (plural_, ns) == (plural, namespace)]
            return self._send(200, {'kind': kind + 'List', 'apiVersion': api_version, 'metadata': {}, 'items': items})
        if method == 'POST':
            if name or not isinstance(body, dict):
                return self._send(405, {'kind': 'Status', 'code': 405, 'reason': 'MethodNotAllowed'})
            name = (body.get('metadata') or {}).get('name')
            if (plural, namespace, name) in State.objects:
                return self._send(409, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'AlreadyExists', 'code': 409,
                                        'message': '%s "%s" already exists' % (plural, name)})
            created = json.loads(json.dumps(body))
            created.update({'kind': kind, 'apiVersion': api_version})
            created['metadata'].update({'namespace': namespace, 'uid': 'fake-uid-%s-%s' % (plural, name),
                                        'resourceVersion': next_resource_version()})
            if not dry_run(query):
                State.objects[(plural, namespace, name)] = created
            return self._send(201, created)
        if not name:
            return self._send(405, {'kind': 'Status', 'code': 405, 'reason': 'MethodNotAllowed'})
        if key not in State.objects:
            return self._send(404, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'NotFound', 'code': 404,
                                    'message': '%s "%s" not found' % (plural, name), 'details': {'name': name, 'kind': plural}})
        stored = State.objects[key]
        if method == 'GET':
            return self._send(200, stored)
        if method == 'DELETE':
            if not dry_run(query):
                State.objects.pop(key)
            return self._send(200, stored)
        if method == 'PATCH' and plural in CUSTOM_RESOURCES and 'strategic' in (self.headers.get('Content-Type') or ''):
            return self._send(415, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'UnsupportedMediaType', 'code': 415,
                                    'message': 'the body of the request was in an unknown format - accepted media types include: '
                                               'application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml'})
        if method == 'PATCH':
            updated = merge_patch(json.loads(json.dumps(stored)), body)
        else:  # PUT: a replace, of the version read (resourceVersion), keeping what the server owns
            sent_version = (body.get('metadata') or {}).get('resourceVersion')
            if sent_version and sent_version != stored['metadata']['resourceVersion']:
                return self._send(409, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'Conflict', 'code': 409,
                                        'message': 'Operation cannot be fulfilled on %s "%s": the object has been modified' % (plural, name)})
            updated = json.loads(json.dumps(body))
            updated.update({'kind': kind, 'apiVersion': api_version})
            updated['metadata'].update({'namespace': namespace, 'uid': stored['metadata']['uid'],
                                        'resourceVersion': stored['metadata']['resourceVersion']})
        updated['metadata']['resourceVersion'] = stored['metadata']['resourceVersion']
        if updated != stored:
            updated['metadata']['resourceVersion'] = next_resource_version()
        if not dry_run(query):
            State.objects[key] = updated
        return self._send(200, updated)

    def _daemonset_pod_delete(self, key, query):
        """Delete a DaemonSet's Pod; its controller starts the replacement at once."""
        pod = State.daemonset_pods[key]
        if not dry_run(query):
            State.daemonset_pods.pop(key)
            owner = pod['metadata']['ownerReferences'][0]['name']
            restarts = State.daemonset_restarts[(key[0], owner)] = State.daemonset_restarts.get((key[0], owner), 0) + 1
            replacement = make_daemonset_pod(key[0], owner, pod['metadata']['labels'], restarts)
            State.daemonset_pods[(key[0], replacement['metadata']['name'])] = replacement
        return self._send(200, pod)

    def _node(self, name):
        node = State.nodes[name]
        polls = State.node_polls[name] = State.node_polls.get(name, 0) + 1
        ready = 'True' if polls > State.node_not_ready_polls else 'False'
        node['status']['conditions'] = [{'type': 'Ready', 'status': ready,
                                         'reason': 'KubeletReady' if ready == 'True' else 'KubeletNotReady'}]
        return node

    def _get_cluster(self, path, query):
        """Nodes, pods of all namespaces and PodDisruptionBudgets; None when the path is none of them."""
        match = NODE_PATH.match(path)
        if match:
            if not match.group(1):
                return self._send(200, {'kind': 'NodeList', 'apiVersion': 'v1', 'metadata': {},
                                        'items': [self._node(name) for name in State.nodes]})
            if match.group(1) not in State.nodes:
                return self._send(404, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'NotFound', 'code': 404,
                                        'message': 'nodes "%s" not found' % match.group(1)})
            return self._send(200, self._node(match.group(1)))
        if path == '/api/v1/pods':
            items = [pod for pod in list(State.node_pods.values()) + list(State.pods.values()) if field_selected(pod, query)]
            return self._send(200, {'kind': 'PodList', 'apiVersion': 'v1', 'metadata': {}, 'items': items})
        if path == '/apis/policy/v1':
            return self._send(200, POLICY_RESOURCES)
        match = PDB_PATH.match(path)
        if match:
            items = [pdb for (ns, _name), pdb in State.pdbs.items() if match.group(1) in (None, ns)]
            return self._send(200, {'kind': 'PodDisruptionBudgetList', 'apiVersion': 'policy/v1', 'metadata': {}, 'items': items})
        return None

    def do_GET(self):  # noqa: N802 (http.server API)
        self._record()
        path, _sep, query = self.path.partition('?')
        if path == '/shutdown':
            State.stop = True
            return self._send(200, {'stopping': True})
        if path == '/version':
            return self._send(200, {'major': '1', 'minor': '30', 'gitVersion': 'v1.30.0', 'platform': 'linux/amd64'})
        if path == '/api':
            return self._send(200, {'kind': 'APIVersions', 'versions': ['v1'],
                                    'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0', 'serverAddress': '127.0.0.1'}]})
        if path == '/apis':
            return self._send(200, {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': [POLICY_GROUP, CNI_GROUP]})
        if path == '/api/v1':
            return self._send(200, RESOURCES)
        if path == '/apis/k8s.cni.cncf.io/v1':
            return self._send(200, CNI_RESOURCES)
        if NODE_PATH.match(path) or path.startswith(('/api/v1/pods', '/apis/policy/v1')):
            return self._get_cluster(path, query)
        if self._object('GET', path, query) is not None:
            return None
        match = POD_PATH.match(path)
        if match:
            namespace, name, log = match.groups()
            if not name:
                items = [pod for (ns, _name), pod in list(State.pods.items()) + sorted(State.daemonset_pods.items())
                         if ns == namespace and label_selected(pod, query)]
                return self._send(200, {'kind': 'PodList', 'apiVersion': 'v1', 'metadata': {}, 'items': items})
            key = (namespace, name)
            if key in State.daemonset_pods and not log:
                return self._send(200, State.daemonset_pods[key])
            if key not in State.pods:
                return self._not_found(name)
            if log:
                # The API serves the container's output; no timestamps unless asked for.
                text = '\n'.join(TIMESTAMP.sub('', line) for line in State.log_text.splitlines()) + '\n'
                return self._send(200, text, 'text/plain')
            return self._send(200, self._pod(key))
        return self._send(404, {'kind': 'Status', 'code': 404, 'message': 'no fake for %s' % path})

    def do_POST(self):  # noqa: N802
        body = self._read_body()
        self._record(body)
        path, _sep, query = self.path.partition('?')
        if self._object('POST', path, query, body) is not None:
            return None
        eviction = EVICTION_PATH.match(self.path.split('?', 1)[0])
        if eviction:
            return self._evict(eviction.group(1), eviction.group(2))
        match = POD_PATH.match(self.path.split('?', 1)[0])
        if not match or match.group(2):
            return self._send(404, {'kind': 'Status', 'code': 404})
        name = body['metadata']['name']
        key = (match.group(1), name)
        if key in State.pods:
            return self._send(409, {'kind': 'Status', 'code': 409, 'reason': 'AlreadyExists', 'message': 'exists'})
        body.setdefault('metadata', {}).update({'namespace': match.group(1), 'uid': 'fake-uid', 'resourceVersion': '1'})
        schedule_testpmd_pod(body)
        State.pods[key] = body
        State.polls[key] = 0
        return self._send(201, body)

    def _evict(self, namespace, name):
        key = (namespace, name)
        pod = State.node_pods.get(key)
        if pod is None:
            return self._not_found(name)
        if blocking_pdbs(namespace, pod):
            # What the API server answers while a PodDisruptionBudget allows no disruption.
            return self._send(429, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'reason': 'TooManyRequests', 'code': 429,
                                    'message': 'Cannot evict pod as it would violate the pod\'s disruption budget.',
                                    'details': {'causes': [{'reason': 'DisruptionBudget',
                                                            'message': 'The disruption budget %s needs 1 healthy pods and has 1 currently'
                                                            % blocking_pdbs(namespace, pod)[0]['metadata']['name']}]}})
        State.node_pods.pop(key)
        return self._send(201, {'kind': 'Status', 'apiVersion': 'v1', 'status': 'Success', 'code': 201})

    def do_PATCH(self):  # noqa: N802
        body = self._read_body()
        self._record(body)
        path, _sep, query = self.path.partition('?')
        if isinstance(body, dict) and self._object('PATCH', path, query, body) is not None:
            return None
        match = NODE_PATH.match(self.path.split('?', 1)[0])
        if not match or not match.group(1) or not isinstance(body, dict):
            return self._send(404, {'kind': 'Status', 'code': 404, 'message': 'no fake patch for %s' % self.path})
        if match.group(1) not in State.nodes:
            return self._send(404, {'kind': 'Status', 'code': 404, 'reason': 'NotFound', 'message': 'nodes "%s" not found' % match.group(1)})
        node = State.nodes[match.group(1)]
        merge_patch(node, body)
        node['metadata']['resourceVersion'] = str(int(node['metadata']['resourceVersion']) + 1)
        return self._send(200, node)

    def do_PUT(self):  # noqa: N802
        body = self._read_body()
        self._record(body)
        path, _sep, query = self.path.partition('?')
        if isinstance(body, dict) and self._object('PUT', path, query, body) is not None:
            return None
        return self._send(404, {'kind': 'Status', 'code': 404, 'message': 'no fake replace for %s' % self.path})

    def do_DELETE(self):  # noqa: N802
        self._record()
        path, _sep, query = self.path.partition('?')
        if self._object('DELETE', path, query) is not None:
            return None
        match = POD_PATH.match(path)
        if not match or not match.group(2):
            return self._send(404, {'kind': 'Status', 'code': 404})
        key = (match.group(1), match.group(2))
        if key in State.daemonset_pods:
            return self._daemonset_pod_delete(key, query)
        if key not in State.pods:
            return self._not_found(match.group(2))
        pod = State.pods.pop(key)
        State.polls.pop(key, None)
        return self._send(200, pod)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--log', required=True, help='file served as the pod log')
    parser.add_argument('--record', help='append one JSON line per request here')
    parser.add_argument('--running-polls', type=int, default=2)
    parser.add_argument('--misschedule', action='append', default=[], metavar='NODE',
                        help='schedule a Pod pinned to NODE on another node (repeatable)')
    parser.add_argument('--node', action='append', default=[], metavar='NAME', help='serve a Node (repeatable)')
    parser.add_argument('--node-not-ready-polls', type=int, default=0, help='GETs of a Node before it is Ready')
    parser.add_argument('--allocatable', action='append', default=[], metavar='RESOURCE=QUANTITY',
                        help='status.allocatable of every Node (repeatable)')
    parser.add_argument('--node-pod', action='append', default=[], metavar='NS/NAME:LABEL=VALUE',
                        help='a ReplicaSet Pod on the first --node (repeatable)')
    parser.add_argument('--pdb', action='append', default=[], metavar='NS/NAME:LABEL=VALUE',
                        help='a PodDisruptionBudget allowing no disruption of the Pods with that label (repeatable)')
    parser.add_argument('--daemonset-pod', action='append', default=[], metavar='NS/NAME:LABEL=VALUE',
                        help='a DaemonSet Pod, recreated as NAME-<n> when deleted (repeatable)')
    parser.add_argument('--max-requests', type=int, default=500, help='exit after this many requests (bounded)')
    parser.add_argument('--idle-exit', type=int, default=120, help='exit after this many seconds without a request')
    args = parser.parse_args(argv)
    with open(args.log) as handle:
        State.log_text = handle.read()
    State.record = args.record
    State.running_polls = args.running_polls
    State.misschedule = tuple(args.misschedule)
    allocatable = dict(item.partition('=')[::2] for item in args.allocatable)
    State.nodes = dict((name, make_node(name, allocatable)) for name in args.node)
    State.node_not_ready_polls = args.node_not_ready_polls
    for spec in args.node_pod:
        namespace, name, labels = labelled(spec)
        State.node_pods[(namespace, name)] = make_node_pod(namespace, name, labels, args.node[0] if args.node else 'fake-node')
    for spec in args.pdb:
        namespace, name, labels = labelled(spec)
        State.pdbs[(namespace, name)] = make_pdb(namespace, name, labels)
    for spec in args.daemonset_pod:
        namespace, name, labels = labelled(spec)
        State.daemonset_pods[(namespace, name)] = make_daemonset_pod(namespace, name, labels, 0)
    server = HTTPServer(('127.0.0.1', args.port), Handler)
    server.timeout = 1
    server.idle = 0

    def idle():
        server.idle += 1

    server.handle_timeout = idle
    requests = 0
    while not State.stop and requests < args.max_requests and server.idle < args.idle_exit:
        before = server.idle
        server.handle_request()
        if server.idle == before:
            requests += 1
            server.idle = 0
    server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
