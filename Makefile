# Strait's everyday commands. `make test` is what CI runs.

GO ?= go
FUZZTIME ?= 20s

.PHONY: run build test test-short lint bench fuzz

## run: start a single-node Strait (Kafka on 127.0.0.1:9092, data in ./strait-data)
run:
	$(GO) run ./cmd/strait serve

## build: build the strait binary into bin/strait
build:
	$(GO) build -o bin/strait ./cmd/strait

## test: every test with the race detector, installing the interop clients first
test:
	bash scripts/install-test-deps.sh
	$(GO) test -race -count=1 -timeout 25m ./...

## test-short: the tests that need no external clients
test-short:
	$(GO) test -race -short -count=1 -timeout 15m ./...

## lint: gofmt must have nothing to say; go vet must pass
lint:
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## bench: the Go benchmarks, without the tests
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: each fuzz target for FUZZTIME (default 20s)
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) bash scripts/fuzz.sh
