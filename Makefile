# minimal-docker: build, demo, tests.
GO      ?= go
BIN     := bin
BUILD   := build
ROOTFS  := $(BUILD)/rootfs
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/minimal-docker/minimal-docker/internal/cli.Version=$(VERSION)

.PHONY: all build monitor deps rootfs demo test test-unit test-integration vet clean

all: build

# The runtimes are pure Go (cgo would cost every command several
# milliseconds of start-up); their cgo half, minimal-docker-helper (the
# container's init, a C interpreter of the plan, in its constructor;
# exec's namespace-joining constructor; libseccomp), is linked statically
# (libseccomp and glibc too; netgo and osusergo keep glibc's NSS out).
# The runtimes look for the helper beside themselves,
# and minimal-docker for minimal-runc and minimal-docker-monitor (C, the
# detached containers' monitor, below). minimal-docker is built lean (the
# build tag lean): it does not link the registry client and the archive
# formats, whose package initialisers cost every start ~3.5 ms, and hands
# pull, load, save and import to minimal-docker-image beside it, the same
# CLI built whole. The tests build them the same way
# (testenv.GoBuildRuntime, GoBuildCompanions).
STATIC  := -tags netgo,osusergo
build: monitor
	CGO_ENABLED=0 $(GO) build -trimpath -tags lean -ldflags '$(LDFLAGS)' -o $(BIN)/minimal-docker ./cmd/minimal-docker
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/minimal-docker-image ./cmd/minimal-docker
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/minimal-runc ./cmd/minimal-runc
	CGO_ENABLED=1 $(GO) build -trimpath $(STATIC) -ldflags '$(LDFLAGS) -extldflags -static' -o $(BIN)/minimal-docker-helper ./cmd/minimal-docker-helper

# monitor: the monitor of a detached container (run -d), in C and linked
# statically: its PSS with 100 idle containers is a quarter of conmon's
# (tests/monitor/mem.sh). minimal-docker finds it beside itself.
monitor:
	@mkdir -p $(BIN)
	gcc -static -Os -Wall -Wextra -o $(BIN)/minimal-docker-monitor cmd/minimal-docker-monitor/monitor.c

# deps installs what building and testing need on Debian (root): a static
# busybox for the test rootfs, libseccomp (cgo, through pkg-config) and gcc;
# the CNI plugins that networks use (/usr/lib/cni: bridge, host-local,
# portmap), iptables that they run, and iproute2 (ip) for the tests;
# and the registry the image tests push to and pull from (docker-registry,
# installed without starting its service).
DEB_DEPS := busybox-static libseccomp-dev pkg-config gcc libc6-dev containernetworking-plugins iptables iproute2
deps:
	@dpkg -s $(DEB_DEPS) >/dev/null 2>&1 || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEB_DEPS); }
	bash tests/interop/install.sh docker-registry

rootfs: deps
	rm -rf $(ROOTFS)
	$(GO) run ./tests/mkrootfs $(ROOTFS)

demo: deps build rootfs
	install -m 0755 scripts/demo.sh $(ROOTFS)/demo.sh
	$(BIN)/minimal-docker run $(ROOTFS) /demo.sh

vet:
	test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...
	$(GO) build -tags lean ./...

# test-unit builds first: the plan interpreter's tests (internal/plan) run
# bin/minimal-docker-helper, the container's init.
test-unit: build
	$(GO) test -count=1 ./internal/... ./bench/... ./cmd/...

test-integration: deps
	# -p 1: the suites check for leftovers beneath the same cgroup, one at a time.
	$(GO) test -p 1 -count=1 -v -timeout 20m ./tests/...

# test-rootless: the rootless suite alone (tests/rootless, as root: it runs
# the runtimes as the CI user mdrootless; test-integration runs it too).
.PHONY: test-rootless
test-rootless: deps
	$(GO) test -p 1 -count=1 -v -timeout 20m ./tests/rootless/

# test: the whole suite (root: the integration tests run real containers).
test: deps vet test-unit test-integration

clean:
	rm -rf $(BIN) $(BUILD)

# explain-page: docs/how-a-container-starts.md, the page "How a container
# starts", from real `bin/minimal-docker run --explain` runs of a busybox
# rootfs made as the tests make it (scripts/explain-page.sh; root). Run it
# again whenever the start changes; it fails, writing nothing, on a build
# without --explain.
.PHONY: explain-page
explain-page: build
	GO='$(GO)' bash scripts/explain-page.sh $(BIN) docs/how-a-container-starts.md

# test-cgroupv2: the integration tests in a pure cgroup v2 guest (Debian's
# kernel under QEMU, cgroup_no_v1=all); root. RUN=regexp picks tests as
# go test -run does. Caches the kernel and the initramfs in CGROUPV2_CACHE;
# see tests/cgroupv2/README.md.
CGROUPV2_CACHE ?= $(BUILD)/cgroupv2
RUN ?=

.PHONY: test-cgroupv2
test-cgroupv2:
	GO='$(GO)' LDFLAGS='$(LDFLAGS)' RUN='$(RUN)' bash tests/cgroupv2/lane.sh $(CGROUPV2_CACHE)

# test-interop: containerd, Podman and Docker drive bin/minimal-runc, and
# runc as the control; Docker and bin/minimal-docker load each other's
# image archives (tests/interop/; root). Installs the engines from
# Debian first if they are missing; each test starts its own engine under a
# temporary directory. RUN=regexp picks tests and subtests as go test -run
# does (RUN='/^runc$' runs only the control).
.PHONY: test-interop
test-interop: build
	bash tests/interop/install.sh
	MD_INTEROP=1 MD_RUNC='$(CURDIR)/$(BIN)/minimal-runc' MD_BIN='$(CURDIR)/$(BIN)/minimal-docker' $(GO) test -count=1 -v -timeout 15m -run '$(RUN)' ./tests/interop/

# bench: start containers with runc, crun, minimal-runc and minimal-docker
# side by side (bench/; root). Installs runc and crun from Debian if missing,
# makes one busybox bundle, runs the Go micro-benchmarks, then the
# interleaved runs in a private mount namespace, then the pull bench
# (minimal-docker pull, ctr images pull, podman pull of one ~100 MB image
# from a docker-registry on 127.0.0.1; containerd or podman missing: their
# rows say skipped), then the detached bench (run -d IMAGE sleep until ps
# shows it Up, with minimal-docker, podman and a dockerd of its own; ps -a
# with 100 containers; their monitors' PSS; tests/monitor/mem.sh beside
# conmon), then the network bench (run true on a bridge beside --network
# none with minimal-docker, podman and a dockerd of its own; TCP
# throughput through our bridge against loopback, with tests/probe; all
# in a network namespace of its own), then the package initialisers'
# time of each Go binary (GODEBUG=inittrace=1, beside a floor program that
# imports only os); the Markdown report goes to build/bench/latest.md.
# BENCH_ARGS passes flags (e.g. --startup-profile, with -explain the
# profile from --explain's lines, -n 50, --pull-only,
# -pull=0 skips the pull bench, --inittrace-only, -inittrace=0 skips the
# initialisers' times, --detach-only, -detach=0 skips the
# detached bench, --network-only, -network=0 skips the network bench).
# Never part of `make test`.
BENCH_DIR ?= $(BUILD)/bench
BENCH_ARGS ?=

.PHONY: bench
bench: deps build
	bash bench/install.sh
	rm -rf $(BENCH_DIR)/bundle
	$(GO) run ./tests/mkrootfs $(BENCH_DIR)/bundle/rootfs
	$(GO) test -run '^$$' -bench . -benchmem ./internal/seccomp ./internal/store ./bench | tee $(BENCH_DIR)/micro.txt
	$(GO) build -o $(BENCH_DIR)/bench ./bench/cmd/bench
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BENCH_DIR)/floor ./bench/cmd/floor
	mkdir -p $(BENCH_DIR)/probe && CGO_ENABLED=0 $(GO) build -o $(BENCH_DIR)/probe/probe ./tests/probe
	$(BENCH_DIR)/bench -bin $(BIN) -bundle $(BENCH_DIR)/bundle -micro $(BENCH_DIR)/micro.txt -probe $(BENCH_DIR)/probe/probe -floor $(BENCH_DIR)/floor -out $(BENCH_DIR)/latest.md $(BENCH_ARGS)

# test-cri: Kubernetes' CRI validation suite (critest) against containerd's
# CRI plugin, with runc (the control) and then bin/minimal-runc as the
# runtime; fails if minimal-runc fails a test that runc passes (tests/cri/;
# root). Installs containerd, runc, the CNI plugins and docker-registry
# from Debian if missing; builds critest and crictl from the module
# sigs.k8s.io/cri-tools into CRI_CACHE. CRI_FOCUS=regexp picks tests.
CRI_CACHE ?= $(BUILD)/cri
CRI_FOCUS ?=

.PHONY: test-cri
test-cri: build
	GO='$(GO)' CRI_FOCUS='$(CRI_FOCUS)' bash tests/cri/lane.sh $(BIN) $(CRI_CACHE)

# test-oci: the OCI runtime-tools validation suite (v0.9.0's validation/
# programs, built from the module's source, its dependencies pinned in
# tests/oci/runtime-tools/go.mod) against runc (the control) and
# bin/minimal-runc, one file at a time; fails where minimal-runc fails a
# file runc passes, or fails the id mappings' file (tests/oci/; root).
# RUN=regexp picks files (RUN='^linux_uid_mappings$').
.PHONY: test-oci
test-oci: build
	bash tests/interop/install.sh runc
	MD_OCI=1 MD_RUNC='$(CURDIR)/$(BIN)/minimal-runc' $(GO) test -count=1 -v -timeout 20m -run 'TestValidation/$(RUN)' ./tests/oci/
