# pkgpersist. Every Go build and test uses the sqlite_vtable tag (the
# collector's embedded engine needs it; cgo is on).
GO       ?= go
TAGS     := sqlite_vtable
# The programs built for use (build, run, dist) also leave out urfave/cli's
# Markdown and man page generation, which nothing here calls: it links
# blackfriday, whose package init alone was a tenth of the collector's
# start-up (every run, every hunted host). Tests and vet keep TAGS, so the
# code still builds both ways.
BIN_TAGS := $(TAGS),urfave_cli_no_docs
# vX.Y.Z tags make releases; dist/pkgversion turns this into the packages'
# version (no tag at all: 0.0.0+gHASH)
VERSION  := $(shell git describe --tags --match 'v[0-9]*' --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/pkgpersist/pkgpersist/extension/server.Version=$(VERSION) \
            -X github.com/pkgpersist/pkgpersist/collector/cli.Version=$(VERSION)
FUZZTIME ?= 15s
export CGO_ENABLED := 1

.PHONY: all build dist packages run test test-load deps fmt-check vet bench fuzz docs packs clean

all: build

build:
	@mkdir -p build
	$(GO) build -tags $(BIN_TAGS) -ldflags '$(LDFLAGS)' -o build/pkgpersist.ext ./extension
	@if ls collector/*.go >/dev/null 2>&1; then \
	  $(GO) build -tags $(BIN_TAGS) -ldflags '$(LDFLAGS)' -o build/pkgpersist ./collector; fi

# Static builds of both programs for every architecture hunted over SSH or
# served to osqueryd: no shared library at all, so they run on any Linux of
# that CPU whatever its libc (CentOS 7's glibc 2.17 as well as Alpine).
# amd64 links musl (musl-tools); Debian packages no musl for arm64, so arm64
# links glibc statically. glibc's static getpwnam/getaddrinfo/dlopen would
# still load the host's NSS modules or libraries at run time: netgo and
# osusergo keep Go off NSS, sqlite_omit_load_extension keeps SQLite off
# dlopen, and --fatal-warnings turns glibc's "requires at runtime the shared
# libraries" link warning into an error should anything bring one back.
# Layout: $(DIST)/pkgpersist_linux_ARCH/{pkgpersist,pkgpersist.ext} and
# $(DIST)/SHA256SUMS; hunt finds it there (collector/distbin).
# Then the .deb and .rpm of each architecture, from those builds
# (dist/nfpm.yaml; nfpm is a Go tool dependency, go.mod's tool line): man
# pages and completions are written by the host's own build, which must be
# among DIST_ARCHS.
#   $(DIST)/pkgpersist_VERSION_ARCH.deb, $(DIST)/pkgpersist-VERSION-1.RPMARCH.rpm
DIST       ?= build/dist
DIST_ARCHS ?= amd64 arm64
DIST_TAGS  := $(BIN_TAGS),sqlite_omit_load_extension,netgo,osusergo
CC_amd64   ?= musl-gcc
CC_arm64   ?= aarch64-linux-gnu-gcc
DIST_LD    := $(LDFLAGS) -s -w -linkmode external -extldflags "-static -Wl,--fatal-warnings"
HOST_ARCH  := $(shell $(GO) env GOARCH)
# DIST_PACKAGES=no: the programs alone (for tests that need no package)
DIST_PACKAGES ?= yes
# the packages' file times: the last commit's, so that a rebuild of the
# same commit makes the same packages. Given to nfpm alone: rpm takes
# SOURCE_DATE_EPOCH as the install time of what it installs, and the tests
# install packages with the real rpm.
PKG_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

dist:
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for arch in $(DIST_ARCHS); do \
	  case $$arch in \
	    amd64) cc='$(CC_amd64)' ;; \
	    arm64) cc='$(CC_arm64)' ;; \
	    *) echo "dist: no C compiler known for $$arch (CC_$$arch)" >&2; exit 1 ;; \
	  esac; \
	  for prog in collector:pkgpersist extension:pkgpersist.ext; do \
	    out=$(DIST)/pkgpersist_linux_$$arch/$${prog#*:}; \
	    echo "dist: $$out ($$cc)"; \
	    CC=$$cc GOOS=linux GOARCH=$$arch $(GO) build -trimpath -tags '$(DIST_TAGS)' \
	      -ldflags '$(DIST_LD)' -o $$out ./$${prog%%:*}; \
	  done; \
	done
	@if [ '$(DIST_PACKAGES)' = no ]; then cd $(DIST) && sha256sum */pkgpersist */pkgpersist.ext > SHA256SUMS; \
	else $(MAKE) --no-print-directory packages; fi

# The packages of the builds already in $(DIST), and SHA256SUMS of all
# (make dist runs it; alone, it packages them again, e.g. as another
# VERSION).
packages:
	@rm -f $(DIST)/*.deb $(DIST)/*.rpm
	@set -e; stage=$(DIST)/.stage; self=$(DIST)/pkgpersist_linux_$(HOST_ARCH)/pkgpersist; \
	  test -x $$self || { echo "dist: the packages need the $(HOST_ARCH) build: add it to DIST_ARCHS" >&2; exit 1; }; \
	  rm -rf $$stage && mkdir -p $$stage/man1 $$stage/completion $$stage/doc; \
	  $$self man --out $$stage/man1; gzip -9n $$stage/man1/*.1; \
	  $$self completion bash > $$stage/completion/pkgpersist.bash; \
	  $$self completion zsh > $$stage/completion/_pkgpersist; \
	  cp README.md dist/copyright $$stage/doc/; if [ -f CHANGELOG.md ]; then cp CHANGELOG.md $$stage/doc/; fi; \
	  ver=$$($(GO) run ./dist/pkgversion '$(VERSION)'); \
	  for arch in $(DIST_ARCHS); do for fmt in deb rpm; do \
	    echo "dist: $$fmt $$arch $$ver"; \
	    SOURCE_DATE_EPOCH=$(PKG_EPOCH) PKG_ARCH=$$arch PKG_VERSION=$$ver PKG_BIN=$(DIST)/pkgpersist_linux_$$arch PKG_STAGE=$$stage \
	      $(GO) tool nfpm package --config dist/nfpm.yaml --packager $$fmt --target $(DIST)/ >/dev/null; \
	  done; done; \
	  rm -rf $$stage
	@cd $(DIST) && sha256sum */pkgpersist */pkgpersist.ext *.deb *.rpm > SHA256SUMS

# The main job on this host: the hunt through the embedded engine (no
# osquery needed), results kept in build/pkgpersist.db so that a second run
# reports what is new, then the web report of the store, build/report.html
# (its path printed last). ROOT=/mnt/image hunts a mounted root. The hunt
# exits 1 when a host is not ok: the report is written all the same, and
# make run exits with the hunt's status.
ROOT ?= /
run: build
	./build/pkgpersist hunt --db build/pkgpersist.db --root "$(ROOT)" --format table; status=$$?; \
	./build/pkgpersist report html --db build/pkgpersist.db --out build/report.html || exit $$?; \
	exit $$status

deps:
	@./test/deps.sh

fmt-check:
	@out=$$(gofmt -l extension collector test dist 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet -tags $(TAGS) ./...

# dist first: the tests of test/dist and collector/hunt build it again into
# temporary directories, which then costs only the links, instead of two
# test binaries compiling SQLite for the same targets at once.
# The packages that serve, fill and read stores run a second time on
# PostgreSQL (test/storetest); the store's own tests run on both engines
# in the first pass.
STORE_PKGS := ./collector/osqserver ./collector/ingest ./collector/stacks ./collector/newterms
test: deps fmt-check vet dist
	$(GO) test -tags $(TAGS) -timeout 14m ./...
	PKGPERSIST_TEST_STORE=postgres $(GO) test -tags $(TAGS) -timeout 10m $(STORE_PKGS)

# The heavy server tests, too long for make test (CI runs both):
# - pkgpersist serve under gzip bombs, forged writes and big enrollments for
#   60 s, as the built binary, its peak RSS checked against the documented
#   bound while a good host keeps its round-trips (make test runs it 5 s);
# - 5,000 simulated osqueryd hosts over TLS, checking in while
#   pkgpersist hunt --enrolled (its own process) hunts them three times;
# - prune on a store of 1,000,000 rows keeps every diff of the kept range.
test-load:
	PKGPERSIST_HOSTILE_SECONDS=60 PKGPERSIST_LOAD=1 $(GO) test -tags $(TAGS) -count=1 -timeout 40m -run '^(TestHostileMix|TestLoad)$$' -v ./collector/osqserver
	PKGPERSIST_LOAD=1 $(GO) test -tags $(TAGS) -count=1 -timeout 30m -run '^TestLoadReplicas$$' -v ./collector/osqserver
	PKGPERSIST_LOAD=1 $(GO) test -tags $(TAGS) -count=1 -timeout 30m -run '^TestPruneMillion$$' -v ./collector/store
	PKGPERSIST_LOAD=1 $(GO) test -tags $(TAGS) -count=1 -timeout 30m -run '^TestExecStorm$$' -v ./extension/capture

# Benchmarks print ratios against a baseline measured in the same run.
bench: build
	$(GO) test -tags $(TAGS) -run '^$$' -bench . -benchtime 2s ./...

# A short pass over every fuzz target (FUZZTIME each); longer campaigns:
#   go test -tags sqlite_vtable -run '^$' -fuzz FuzzRead -fuzztime 10m ./extension/aptconf
fuzz:
	@for pkg in $$($(GO) list -tags $(TAGS) ./...); do \
	  for f in $$($(GO) test -tags $(TAGS) -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -tags $(TAGS) -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Rewrites README's table reference and distribution table from the code.
docs:
	PKGPERSIST_UPDATE_DOCS=1 $(GO) test -tags $(TAGS) -count=1 -run TestREADMETableReference ./extension/registry
	PKGPERSIST_UPDATE_DOCS=1 $(GO) test -tags $(TAGS) -count=1 -run TestREADMEDistributions ./test/distros

# Regenerates packs/ (osquery packs, example config, Fleet YAML) from queries/.
packs:
	$(GO) run -tags $(TAGS) ./collector packs --out packs

clean:
	rm -rf build
