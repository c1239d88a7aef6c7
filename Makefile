# Chamber. `make run` starts a demo; `make test` sets up PostgreSQL and Redis when they
# are missing and runs every test against them.
SHELL := /bin/bash
GO    ?= go

.PHONY: run build test test-short bench vet fmt

run:
	$(GO) run ./cmd/chamber serve --demo

build:
	$(GO) build -o bin/chamber ./cmd/chamber

test:
	@source .ci/services.sh && $(GO) vet ./... && $(GO) test -race -timeout 20m ./...

# Without PostgreSQL and Redis: their tests are skipped.
test-short:
	$(GO) test ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

vet:
	$(GO) vet ./...

fmt:
	gofmt -l -w .
