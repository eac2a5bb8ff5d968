# lvskit: the two commands a newcomer needs are `make demo` and `make test`.
GO ?= go

.PHONY: all test check deps vm-kernel unit netns vm demo clean

all: check

## test: install what the tiers need (Debian, root), then run all tiers
test: deps vm-kernel
	@./scripts/test.sh

## check: static checks only
check:
	@echo "gofmt";      out=$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "go vet";     $(GO) vet ./...
	@echo "staticcheck"; $(GO) tool staticcheck ./...
	@echo "go mod tidy -diff"; $(GO) mod tidy -diff
	@echo "GOOS=darwin go build"; GOOS=darwin $(GO) build ./...

## deps: install the Debian packages the tiers and the demo use (root only)
deps:
	@./scripts/deps.sh

## vm-kernel: fetch and unpack the Debian kernel the VM tier boots (root only)
vm-kernel:
	@if [ "$$(id -u)" = 0 ] && [ ! -e /proc/net/ip_vs ]; then $(GO) run ./internal/testenv/vmrun -prepare; fi

unit:
	$(GO) test -race -shuffle=on -skip '^(TestIntegration|TestVM)' ./...

netns:
	$(GO) test -count=1 -run '^TestIntegration' ./...

vm:
	$(GO) test -count=1 -run '^TestVM' ./...

## demo: the article's two-node cluster on one machine (root)
demo: deps vm-kernel
	@$(GO) build -o bin/ ./examples/lbnode ./examples/demo
	@./bin/demo -lbnode $(CURDIR)/bin/lbnode

clean:
	$(GO) clean -testcache
