# pkgpersist. Every Go build and test uses the sqlite_vtable tag (the
# collector's embedded engine needs it; cgo is on).
GO       ?= go
TAGS     := sqlite_vtable
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/pkgpersist/pkgpersist/extension/server.Version=$(VERSION) \
            -X github.com/pkgpersist/pkgpersist/collector/cli.Version=$(VERSION)
FUZZTIME ?= 15s
export CGO_ENABLED := 1

.PHONY: all build run test deps fmt-check vet bench fuzz docs packs clean

all: build

build:
	@mkdir -p build
	$(GO) build -tags $(TAGS) -ldflags '$(LDFLAGS)' -o build/pkgpersist.ext ./extension
	@if ls collector/*.go >/dev/null 2>&1; then \
	  $(GO) build -tags $(TAGS) -ldflags '$(LDFLAGS)' -o build/pkgpersist ./collector; fi

# The main job on this host: the hunt through the embedded engine (no
# osquery needed), results kept in build/pkgpersist.db so that a second run
# reports what is new. ROOT=/mnt/image hunts a mounted root.
ROOT ?= /
run: build
	./build/pkgpersist hunt --db build/pkgpersist.db --root "$(ROOT)" --format table

deps:
	@./test/deps.sh

fmt-check:
	@out=$$(gofmt -l extension collector test 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet -tags $(TAGS) ./...

test: deps fmt-check vet
	$(GO) test -tags $(TAGS) -timeout 14m ./...

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
