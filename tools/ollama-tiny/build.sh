#!/usr/bin/env bash
# Build the Ollama server (CPU only) from the Go module proxy into DIR/ollama, and generate the
# tiny GGUF models into DIR/gguf. Needs: Go >= 1.24 and Debian's apt-get (as root, or with sudo)
# for two header packages and, if missing, g++.
# Cold build: ~6 min on 2 cores (cgo compiles ggml + llama.cpp); later builds reuse the Go cache.
# Nothing is done when DIR/ollama and DIR/gguf were built from the same inputs (this script,
# build-include/, gen/, the Ollama and Go versions): OLLAMA_TINY_REBUILD=1 builds anyway.
#
#   ./build.sh            (OLLAMA_VERSION=0.17.4 by default)
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VERSION=${OLLAMA_VERSION:-0.17.4}
STAMP="$DIR/.build-stamp"

inputs() {
  echo "ollama $VERSION"
  go version
  (cd "$DIR" && find build.sh build-include gen -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
want=$(inputs | sha256sum | cut -d' ' -f1)
if [[ "${OLLAMA_TINY_REBUILD:-0}" != 1 && -x "$DIR/ollama" && "$(cat "$STAMP" 2>/dev/null)" == "$want" ]] &&
  [[ -s "$DIR/gguf/tiny-llama.gguf" && -s "$DIR/gguf/tiny-random.gguf" && -s "$DIR/gguf/tiny-bert.gguf" ]]; then
  echo "build.sh: $DIR/ollama and gguf/ are up to date (OLLAMA_TINY_REBUILD=1 rebuilds)"
  exit 0
fi
rm -f "$STAMP"

# The module zip on the Go proxy has no llama/llama.cpp/vendor/ (Go drops vendor/ dirs from module
# zips), so the headers it would hold come from Debian (nlohmann json, stb_image) and, for
# miniaudio (not packaged in Debian 12; used only for audio input), from a stub in build-include/.
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then SUDO=sudo; fi
pkgs=()
dpkg -s nlohmann-json3-dev libstb-dev >/dev/null 2>&1 || pkgs+=(nlohmann-json3-dev libstb-dev)
{ command -v gcc && command -v g++; } >/dev/null || pkgs+=(g++)
if ((${#pkgs[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"   # outside any module / go.work
time GOBIN="$DIR" CGO_ENABLED=1 CGO_CPPFLAGS="-I$DIR/build-include" \
  go install -ldflags "-s -w -X=github.com/ollama/ollama/version.Version=$VERSION -X=github.com/ollama/ollama/server.mode=release" \
  "github.com/ollama/ollama@v$VERSION"
ls -l "$DIR/ollama"

(cd "$DIR/gen" && go test . && go run . -out "$DIR/gguf")
echo "$want" >"$STAMP"
echo "build.sh: done. Start with: $DIR/start.sh [PORT]"
