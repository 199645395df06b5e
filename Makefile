# nfv.dpdk — one entry point for contributors and CI.
#   make test   : everything below, in order (what .ci/run and the README run)
#   make demo   : boot the lab node and run playbooks/site.yml against it
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The repository is the collection; this symlink gives it its import name.
COLLECTIONS := $(VENV)/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/nfv/dpdk
# Outside the repository: inside it, ansible-test would list files with git, which ignores .venv/.
SANITY_TREE := $(or $(TMPDIR),/tmp)/nfv-dpdk-sanity-$(shell echo '$(CURDIR)' | md5sum | cut -c1-8)/ansible_collections/nfv/dpdk
BUILD_DIR := $(VENV)/build
# The oldest ansible-core meta/runtime.yml claims (2.16, with the ansible 9 collections):
# its own venv under .venv/ (ignored by git, the build, the linters and pytest).
VENV_CORE216 := $(VENV)/core216
BIN_CORE216 := $(VENV_CORE216)/bin
STAMP_CORE216 := $(VENV_CORE216)/.installed
COLLECTIONS_CORE216 := $(VENV_CORE216)/collections
CORE216_PACKAGES := ansible ansible-core ansible-lint pytest pytest-mock pytest-xdist jmespath kubernetes kubernetes-validate netaddr PyYAML
SANITY_TREE_CORE216 := $(or $(TMPDIR),/tmp)/nfv-dpdk-sanity-core216-$(shell echo '$(CURDIR)' | md5sum | cut -c1-8)/ansible_collections/nfv/dpdk
# The sanity tests whose verdict depends on the ansible-core version (its module API,
# argument spec and docs schema, import rules, pinned pylint); the others read only
# the files and run on 2.19 in make sanity.
CORE216_SANITY_TESTS := compile import validate-modules pylint ansible-doc runtime-metadata
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(BIN):$(PATH)

# Debian packages the tests and the lab need on the machine that runs them.
HOST_PACKAGES := python3-venv git tar make podman runc dpdk dpdk-dev \
	librte-net-af-packet23 librte-net-tap23 librte-net-null23 \
	mmdebstrap qemu-utils zstd openssh-client e2fsprogs grub-pc-bin grub2-common \
	iproute2 kmod pciutils

.PHONY: help host-deps venv venv-core216 unit unit-core216 integration sanity sanity-core216 lint-core216 core216 lint build molecule e2e-podman awx kubelet-standin test demo bench-host bench-lab clean

help:
	@echo 'make test       run every test (unit, sanity, lint, build, e2e, molecule)'
	@echo 'make demo       boot the lab node and run playbooks/site.yml on it'
	@echo 'make unit|integration|sanity|lint|build|e2e-podman|awx|kubelet-standin|molecule   one step'
	@echo 'make core216    unit tests, version-dependent sanity and ansible-lint on ansible-core 2.16 (oldest supported)'
	@echo 'make host-deps  install the Debian packages the tests need (root)'

host-deps:
	@missing=$$(dpkg-query -W -f='$${Package} $${Status}\n' $(HOST_PACKAGES) 2>/dev/null \
	  | awk '$$4 != "installed" {print $$1}'; \
	  for p in $(HOST_PACKAGES); do dpkg-query -W $$p >/dev/null 2>&1 || echo $$p; done); \
	missing=$$(echo $$missing | tr ' ' '\n' | sort -u | tr '\n' ' '); \
	if [ -z "$${missing// /}" ]; then echo "host-deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "host-deps: missing Debian packages (install as root): $$missing" >&2; exit 1; fi; \
	echo "host-deps: installing $$missing"; \
	apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null

$(STAMP): requirements-test.txt constraints-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-test.txt -c constraints-test.txt
	touch $@

venv: $(STAMP)
	@mkdir -p $(dir $(COLLECTION_LINK))
	@test -L $(COLLECTION_LINK) || ln -sfn $(CURDIR) $(COLLECTION_LINK)

# The unit tests on every core (pytest-xdist): most of their time is ansible-playbook runs that
# wait on their own subprocesses, so two workers on two cores roughly halve it. UNIT_WORKERS=0
# runs them in one process (pytest -n 0).
UNIT_WORKERS ?= auto
unit: venv
	$(BIN)/python -m pytest -n $(UNIT_WORKERS) tests/unit

# Modules against this machine's real kernel, where that is safe (2M hugepages, given back).
integration: venv
	$(BIN)/python -m pytest tests/integration

# ansible-test wants the collection under ansible_collections/<ns>/<name>: test a
# copy of the working tree (tracked and new files, as they are now) there. The
# developer tooling (lab/, bench/, tools/) is not part of the collection.
sanity: venv
	rm -rf $(SANITY_TREE) && mkdir -p $(SANITY_TREE)
	git ls-files -z -co --exclude-standard | grep -zvE '^(lab|bench|tools|\.ci)/' \
	  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C $(SANITY_TREE)
	$(BIN)/python tools/ansible_test_offline.py install
	cd $(SANITY_TREE) && $(BIN)/ansible-test sanity --python 3.11 --color no

# The same unit tests and the version-dependent sanity tests on ansible-core 2.16.
$(STAMP_CORE216): constraints-core216.txt
	test -x $(BIN_CORE216)/python || $(PYTHON) -m venv $(VENV_CORE216)
	$(BIN_CORE216)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN_CORE216)/python -m pip install -q --disable-pip-version-check -c constraints-core216.txt $(CORE216_PACKAGES)
	touch $@

venv-core216: venv $(STAMP_CORE216)
	@mkdir -p $(COLLECTIONS_CORE216)/ansible_collections/nfv
	@test -L $(COLLECTIONS_CORE216)/ansible_collections/nfv/dpdk || ln -sfn $(CURDIR) $(COLLECTIONS_CORE216)/ansible_collections/nfv/dpdk

unit-core216: venv-core216
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_CORE216) PATH=$(BIN_CORE216):$$PATH $(BIN_CORE216)/python -m pytest -n $(UNIT_WORKERS) tests/unit

sanity-core216: venv-core216
	rm -rf $(SANITY_TREE_CORE216) && mkdir -p $(SANITY_TREE_CORE216)
	git ls-files -z -co --exclude-standard | grep -zvE '^(lab|bench|tools|\.ci)/' \
	  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C $(SANITY_TREE_CORE216)
	$(BIN_CORE216)/python tools/ansible_test_offline.py install
	cd $(SANITY_TREE_CORE216) && ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_CORE216) PATH=$(BIN_CORE216):$$PATH \
	  $(BIN_CORE216)/ansible-test sanity --python 3.11 --color no $(addprefix --test ,$(CORE216_SANITY_TESTS))

# The production profile on 2.16's own module/argument-spec loader and bundled collections.
lint-core216: venv-core216
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_CORE216) PATH=$(BIN_CORE216):$$PATH \
	  $(BIN_CORE216)/ansible-lint --offline --profile production

core216: unit-core216 sanity-core216 lint-core216

lint: venv
	$(BIN)/yamllint -s .
	$(BIN)/ansible-lint --offline --profile production
	$(BIN)/antsibull-changelog lint

build: venv
	rm -rf $(BUILD_DIR) && mkdir -p $(BUILD_DIR)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD_DIR) .
	# Lists the tarball; fails on developer-only files, missing user files or docs, dangling references.
	$(BIN)/python tools/check_collection_tarball.py $(BUILD_DIR)/nfv-dpdk-*.tar.gz
	ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR)/install $(BIN)/ansible-galaxy collection install --offline --no-deps \
	  -p $(BUILD_DIR)/install $(BUILD_DIR)/nfv-dpdk-*.tar.gz
	@modules=$$(ls plugins/modules/*.py 2>/dev/null | xargs -rn1 basename | sed 's/\.py$$//' | grep -v '^__init__$$' || true); \
	listed=$$(ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR)/install $(BIN)/ansible-doc -t module -l nfv.dpdk); echo "$$listed"; \
	for m in $$modules; do \
	  grep -q "^nfv\.dpdk\.$$m " <<<"$$listed" || { echo "build: module $$m missing from the installed tarball" >&2; exit 1; }; \
	  ANSIBLE_COLLECTIONS_PATH=$(BUILD_DIR)/install $(BIN)/ansible-doc -t module nfv.dpdk.$$m >/dev/null; \
	done; echo "build: $$(wc -w <<<"$$modules") modules install and render with ansible-doc"

# The DPDK pod role end to end on this machine: the podman backend with vdevs and
# real hugepages (podman here needs the project's containers.conf: runc, ulimits),
# and the Kubernetes backend against a fake API server.
e2e-podman: venv
	CONTAINERS_CONF=$(CURDIR)/tests/e2e/containers.conf $(BIN)/ansible-playbook -i localhost, -c local tests/e2e/podman.yml
	$(BIN)/ansible-playbook -i localhost, -c local tests/e2e/kubernetes-fake.yml
	$(BIN)/ansible-playbook -i localhost, -c local tests/e2e/dpdk-node-drain-fake.yml
	$(BIN)/ansible-playbook -i localhost, -c local tests/e2e/sriov-device-plugin-fake.yml

# AWX: ansible-builder create renders docs/execution-environment.yml (no image build: base
# images are not reachable here) and its introspection is checked; ansible-runner runs the
# job templates of docs/awx.md (report.yml, site.yml in check mode) from a private data dir
# on localhost against a fake node tree, judged by the runner's artifacts.
awx: venv
	$(BIN)/python -m pytest tests/awx

# The kubelet_cpu_manager role against the TEST-ONLY kubelet stand-in (switch, re-run, three
# rollbacks) on real systemd: a Debian 12 container booted with systemd on this machine, reached
# over SSH (built once with mmdebstrap, ~2 min; then ~3 min a run). On the lab VM under TCG the
# same playbook takes 9 min or more.
kubelet-standin: host-deps venv
	$(BIN)/python tests/kubelet-standin/run_in_container.py

# The whole flow on the lab node: create, a --check --diff plan, converge, idempotence,
# reboot, testpmd in a pod, testinfra, destroy.
molecule: host-deps venv
	$(BIN)/molecule test -s default

# make test includes the lab scenario; MOLECULE=0 leaves it out for a quick local run.
MOLECULE ?= 1
test: host-deps venv unit integration sanity core216 lint build e2e-podman awx kubelet-standin $(if $(filter 1,$(MOLECULE)),molecule)

# The main job on the embedded lab node: boot it (building its image the first
# time), run the whole flow, and report each host's testpmd verdict. The inventory
# must be a file with hosts in dpdk_nodes before the playbook runs, and every
# verdict line comes from the record the dpdk_testpmd role wrote during THIS run
# (dpdk_testpmd_report_dir, a fresh directory): a missing, stale or failed
# record fails the demo. NFV_DPDK_LAB_INSTANCE/_SSH_PORT/_CACHE select the node.
LABCTL ?= lab/labctl
demo: host-deps venv
	@start=$$(date +%s); \
	inventory=$$($(LABCTL) up); \
	if [ ! -f "$$inventory" ]; then \
	  echo "demo: labctl up did not print the path of an inventory file; it printed: $$(printf %q "$$inventory")" >&2; \
	  exit 1; fi; \
	run_dir=$$(mktemp -d "$${TMPDIR:-/tmp}/nfv-dpdk-demo.XXXXXX"); \
	echo "demo: inventory $$inventory; verdict records in $$run_dir/verdicts"; \
	export ANSIBLE_INVENTORY_UNPARSED_FAILED=true; \
	$(BIN)/ansible-inventory -i "$$inventory" --list > "$$run_dir/inventory.json"; \
	$(BIN)/python lab/demo_summary.py hosts --inventory-json "$$run_dir/inventory.json" --group dpdk_nodes; \
	rc=0; $(BIN)/ansible-playbook -i "$$inventory" -e @lab/site-vars.yml \
	  -e dpdk_testpmd_report_dir="$$run_dir/verdicts" playbooks/site.yml || rc=$$?; \
	$(BIN)/python lab/demo_summary.py report --inventory-json "$$run_dir/inventory.json" --group dpdk_nodes \
	  --records "$$run_dir/verdicts" --since "$$start" || { [ "$$rc" != 0 ] || rc=1; }; \
	exit $$rc

# Benchmarks, never part of make test: figures go to bench/results/ (see bench/README.md).
bench-host: venv
	$(BIN)/python bench/testpmd_pod_vs_host.py
	$(BIN)/python bench/module_overhead.py

# On the lab node from its fresh image: preparation, re-run, pod vs host over the VFs.
bench-lab: host-deps venv
	$(BIN)/python bench/node_prep.py
	$(BIN)/python bench/rerun.py
	$(BIN)/python bench/testpmd_pod_vs_host.py --lab

clean:
	rm -rf $(VENV) tests/output .ansible
