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

    python3 fake_kube_api.py --port 38617 --log tests/unit/fixtures/testpmd/pod_podman_io_null.log --record /tmp/calls.jsonl
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import re
import sys

from http.server import BaseHTTPRequestHandler, HTTPServer

POD_PATH = re.compile(r'^/api/v1/namespaces/([^/]+)/pods(?:/([^/]+))?(/log)?$')
TIMESTAMP = re.compile(r'^\d{4}-\d\d-\d\dT\S+ ')

RESOURCES = {
    'kind': 'APIResourceList', 'groupVersion': 'v1',
    'resources': [
        {'name': 'pods', 'singularName': 'pod', 'namespaced': True, 'kind': 'Pod',
         'verbs': ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], 'shortNames': ['po']},
        {'name': 'pods/log', 'singularName': '', 'namespaced': True, 'kind': 'Pod', 'verbs': ['get']},
        {'name': 'namespaces', 'singularName': 'namespace', 'namespaced': False, 'kind': 'Namespace',
         'verbs': ['get', 'list']},
    ],
}


class State:
    stop = False
    pods = {}
    polls = {}
    running_polls = 2
    log_text = ''
    record = None


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

    def do_GET(self):  # noqa: N802 (http.server API)
        self._record()
        path = self.path.split('?', 1)[0]
        if path == '/shutdown':
            State.stop = True
            return self._send(200, {'stopping': True})
        if path == '/version':
            return self._send(200, {'major': '1', 'minor': '30', 'gitVersion': 'v1.30.0', 'platform': 'linux/amd64'})
        if path == '/api':
            return self._send(200, {'kind': 'APIVersions', 'versions': ['v1'],
                                    'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0', 'serverAddress': '127.0.0.1'}]})
        if path == '/apis':
            return self._send(200, {'kind': 'APIGroupList', 'apiVersion': 'v1', 'groups': []})
        if path == '/api/v1':
            return self._send(200, RESOURCES)
        match = POD_PATH.match(path)
        if match:
            namespace, name, log = match.groups()
            if not name:
                items = [pod for (ns, _name), pod in State.pods.items() if ns == namespace]
                return self._send(200, {'kind': 'PodList', 'apiVersion': 'v1', 'metadata': {}, 'items': items})
            key = (namespace, name)
            if key not in State.pods:
                return self._not_found(name)
            if log:
                # The API serves the container's output; no timestamps unless asked for.
                text = '\n'.join(TIMESTAMP.sub('', line) for line in State.log_text.splitlines()) + '\n'
                return self._send(200, text, 'text/plain')
            return self._send(200, self._pod(key))
        return self._send(404, {'kind': 'Status', 'code': 404, 'message': 'no fake for %s' % path})

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get('Content-Length') or 0)
        body = json.loads(self.rfile.read(length) or b'{}')
        self._record(body)
        match = POD_PATH.match(self.path.split('?', 1)[0])
        if not match or match.group(2):
            return self._send(404, {'kind': 'Status', 'code': 404})
        name = body['metadata']['name']
        key = (match.group(1), name)
        if key in State.pods:
            return self._send(409, {'kind': 'Status', 'code': 409, 'reason': 'AlreadyExists', 'message': 'exists'})
        body.setdefault('metadata', {}).update({'namespace': match.group(1), 'uid': 'fake-uid', 'resourceVersion': '1'})
        State.pods[key] = body
        State.polls[key] = 0
        return self._send(201, body)

    def do_DELETE(self):  # noqa: N802
        self._record()
        match = POD_PATH.match(self.path.split('?', 1)[0])
        if not match or not match.group(2):
            return self._send(404, {'kind': 'Status', 'code': 404})
        key = (match.group(1), match.group(2))
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
    parser.add_argument('--max-requests', type=int, default=500, help='exit after this many requests (bounded)')
    parser.add_argument('--idle-exit', type=int, default=120, help='exit after this many seconds without a request')
    args = parser.parse_args(argv)
    with open(args.log) as handle:
        State.log_text = handle.read()
    State.record = args.record
    State.running_polls = args.running_polls
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
