# Buttonhook: `make run` builds and opens the app; `make test` runs every test.
# Both install what they need first (Debian/Ubuntu packages through apt).

SHELL   := /bin/bash
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/buttonhook

# Packages needed to build (Fyne on X11 + gousb) and to run the tests that use
# real parts (a window under Xvfb, a Secret Service, ptys, umockdev, the
# reference firmware built with g++ and run under python3 on the host, and
# built for real AVR boards with gcc-avr: 22 MB to download, 5 s to install).
BUILD_PKGS := gcc libc6-dev pkg-config libgl1-mesa-dev libxcursor-dev libxrandr-dev \
              libxinerama-dev libxi-dev libxxf86vm-dev libusb-1.0-0-dev
TEST_PKGS  := xvfb xauth x11-utils imagemagick dbus dbus-x11 gnome-keyring umockdev libumockdev-dev socat \
              g++ python3 gcc-avr avr-libc arduino-core-avr

.PHONY: run build headless headless-arm64 package-linux test bench fuzz deps-build deps-test vet cross cross-windows clean

run: deps-build build
	./$(BIN)

build:
	go build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The same program without the window: no Fyne, no X11 or OpenGL libraries,
# for a headless box (`buttonhook-headless run`).
headless:
	go build -tags nogui -ldflags "$(LDFLAGS)" -o bin/buttonhook-headless .

# A static headless binary for a 64-bit ARM board (Raspberry Pi OS 64-bit):
# no cgo, so no USB (serial buttons only).
headless-arm64:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags "nogui nousb" -ldflags "$(LDFLAGS)" -o bin/buttonhook-headless-arm64 .

# A Linux desktop package (tar.xz with the binary, a .desktop file and the
# icon; `sudo make install` inside it installs to /usr/local). About 3 minutes.
package-linux: deps-build
	go install fyne.io/tools/cmd/fyne@v1.7.4
	fyne package -os linux --release
	mkdir -p bin && mv Buttonhook.tar.xz bin/

deps-build:
	@./.ci/apt-install $(BUILD_PKGS)

deps-test: deps-build
	@./.ci/apt-install $(TEST_PKGS)

vet:
	go vet ./...

# Every test, with the race detector, under a private D-Bus session with an
# unlocked gnome-keyring (the real Secret Service) and an X server for the
# window test.
test: deps-test build vet
	./.ci/with-services go test -race -count=1 -timeout 20m ./...
	go test -race -count=1 -timeout 5m -tags umockdev -exec umockdev-wrapper ./device/usb/...

# The latency and storage benchmarks, as a table.
bench: build
	go test -run '^$$' -bench . -benchtime 2000x ./app/engine/ | ./.ci/benchtable
	go test -run '^$$' -bench . -benchtime 3s -timeout 30m ./device/serial/ ./storage/ | ./.ci/benchtable
	go test -run '^$$' -bench 'Send|Expand|RenderURL|JSONBody' -benchtime 2s ./actions/ | ./.ci/benchtable
	go test -run '^$$' -bench . -benchtime 100x -tags umockdev -exec umockdev-wrapper ./device/usb/ | ./.ci/benchtable
	go test -run '^$$' -bench 'LocalServerLoad' -benchtime 1x ./app/server/ | ./.ci/benchtable
	go test -run '^$$' -bench 'PressToRequestUnderLoad' -benchtime 1000x ./app/server/ | ./.ci/benchtable

# Fuzz each fuzz target for FUZZTIME (their seeds run in `make test`).
FUZZTIME ?= 60s
FUZZ_TARGETS = actions:FuzzExpand actions:FuzzJSONBody actions:FuzzRenderURL \
	device/serial:FuzzParseLine device/serial:FuzzParseCommand device/serial:FuzzLineSplitter \
	device/serial:FuzzLinesTemplate device/serial:FuzzLinesMatch device/serial/firmata:FuzzDecoder \
	app/server:FuzzLocalHandler
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t"; go test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*}/; done

# Keep the other two platforms compiling without their toolchains (no cgo,
# so no libusb: -tags nousb). See docs/platforms.md.
cross:
	GOOS=windows CGO_ENABLED=0 go vet -tags nousb ./actions/... ./storage/... ./device/... ./app/... ./assets/...
	GOOS=darwin CGO_ENABLED=0 go vet -tags nousb ./actions/... ./storage/... ./device ./device/usb/...

# The Windows app, cross-built with mingw-w64 (about 5 minutes cold). USB
# needs a mingw build of libusb (PLATFORM.md); this build leaves it out.
cross-windows:
	@./.ci/apt-install gcc-mingw-w64-x86-64
	CGO_ENABLED=1 GOOS=windows CC=x86_64-w64-mingw32-gcc go build -tags nousb -ldflags "$(LDFLAGS) -H=windowsgui" -o bin/buttonhook.exe .

clean:
	rm -rf bin
