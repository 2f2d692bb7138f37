# alphanet: `make demo` and `make test` work on a fresh Debian machine with Node 20 (as root).
SHELL := /bin/bash
APT_PACKAGES := libtorch-dev libopenblas0-pthread
# Debian's Chromium draws the PNG copies of the report's charts and runs the report's browser tests.
TEST_APT_PACKAGES := chromium
ADDON := native/build/Release/alphanet_native.node
NODE_GYP := node_modules/.bin/node-gyp
# Debian's Node ships its headers in /usr/include/node; use them instead of downloading any.
GYP_FLAGS := $(if $(wildcard /usr/include/node/node.h),--nodedir=/usr,)

.PHONY: all deps test-deps apt build test demo bench clean

all: build

# System packages, installed only when missing.
deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory apt PACKAGES="$(APT_PACKAGES) $(TEST_APT_PACKAGES)"

apt:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "run as root, or install:$$missing" >&2; exit 1; fi; \
	  export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# npm 11 leaves other platforms' optional packages (DuckDB's prebuilt bindings) out of the lock
# file, and `npm ci` then refuses it; `npm install` resolves the same versions from the lock.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund || npm install --no-audit --no-fund
	touch $@

$(ADDON): native/tensor.cc native/binding.gyp node_modules/.installed
	$(NODE_GYP) rebuild --directory native $(GYP_FLAGS) -j 2

dist/.built: $(ADDON) $(shell find src test bench -name '*.ts' 2>/dev/null) tsconfig.json
	node_modules/.bin/tsc -p tsconfig.json
	touch $@

build: deps node_modules/.installed $(ADDON) dist/.built

test: test-deps build
	npm test

demo: test-deps build
	node dist/src/cli/main.js demo

bench: build
	node dist/bench/main.js train --peer

clean:
	rm -rf dist native/build node_modules
