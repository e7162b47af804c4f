#!/usr/bin/env bash
# Start a real Ollama server on loopback with the tiny test models, creating them if missing.
#
#   ./start.sh [PORT]        (default PORT: 11435, or $OLLAMA_TINY_PORT)
#
# Idempotent: if a server already answers on 127.0.0.1:PORT it is reused (not restarted);
# models that are missing or out of date are created (OLLAMA_TINY_RECREATE=1 re-creates all three);
# GGUF files that are missing are generated from gen/ (needs Go).
# Prints, on stdout, lines a caller can eval:  OLLAMA_HOST=http://127.0.0.1:PORT  OLLAMA_TINY_PID=N
# Stop it with:  ./stop.sh [PORT]   (kills the PID in run/serve-PORT.pid)
#
# Environment passed through to the server: OLLAMA_MODELS (default DIR/models), OLLAMA_KEEP_ALIVE,
# OLLAMA_NUM_PARALLEL, OLLAMA_CONTEXT_LENGTH, OLLAMA_DEBUG, ... (see `ollama serve --help`).
set -euo pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PORT=${1:-${OLLAMA_TINY_PORT:-11435}}
BIN="$DIR/ollama"
export OLLAMA_HOST="127.0.0.1:$PORT"
export OLLAMA_MODELS="${OLLAMA_MODELS:-$DIR/models}"
LOG="$DIR/logs/serve-$PORT.log"
PIDFILE="$DIR/run/serve-$PORT.pid"
MODELS=(tiny tiny-random tiny-embed)
declare -A GGUF=([tiny]=tiny-llama.gguf [tiny-random]=tiny-random.gguf [tiny-embed]=tiny-bert.gguf)

log() { echo "start.sh: $*" >&2; }

[[ -x "$BIN" ]] || { log "no $BIN; build it first: $DIR/build.sh (see $DIR/README.md)"; exit 1; }
mkdir -p "$DIR/logs" "$DIR/run" "$OLLAMA_MODELS"

# 1. GGUF files (deterministic; regenerated only when missing)
for m in "${MODELS[@]}"; do
  if [[ ! -s "$DIR/gguf/${GGUF[$m]}" ]]; then
    log "generating GGUF files with gen/ (go run)"
    (cd "$DIR/gen" && go run . -out "$DIR/gguf" >&2)
    break
  fi
done

up() { "$BIN" list >/dev/null 2>&1; }

# 2. server
PID=""
if up; then
  [[ -f "$PIDFILE" ]] && PID=$(cat "$PIDFILE")
  log "a server already answers on $OLLAMA_HOST (pid ${PID:-unknown}); reusing it"
else
  log "starting $BIN serve on $OLLAMA_HOST (models: $OLLAMA_MODELS, log: $LOG)"
  nohup "$BIN" serve >>"$LOG" 2>&1 </dev/null &
  PID=$!
  echo "$PID" >"$PIDFILE"
  for _ in $(seq 1 150); do            # up to ~30 s
    up && break
    if ! kill -0 "$PID" 2>/dev/null; then log "server exited; see $LOG"; tail -20 "$LOG" >&2; exit 1; fi
    sleep 0.2
  done
  up || { log "server did not answer within 30 s; see $LOG"; exit 1; }
fi

# 3. models: created when missing, re-created when their GGUF or Modelfile changed (the hash of
#    both is kept next to the models) or when OLLAMA_TINY_RECREATE=1
for m in "${MODELS[@]}"; do
  key=$(cat "$DIR/modelfiles/$m.Modelfile" "$DIR/gguf/${GGUF[$m]}" | sha256sum | cut -d' ' -f1)
  stamp="$OLLAMA_MODELS/.ollama-tiny-$m"
  if [[ "${OLLAMA_TINY_RECREATE:-0}" == 1 || "$(cat "$stamp" 2>/dev/null)" != "$key" ]] ||
    ! "$BIN" show "$m" --modelfile >/dev/null 2>&1; then
    log "creating model $m"
    "$BIN" create "$m" -f "$DIR/modelfiles/$m.Modelfile" >/dev/null 2>&1 \
      || { log "ollama create $m failed; rerun: OLLAMA_HOST=$OLLAMA_HOST $BIN create $m -f $DIR/modelfiles/$m.Modelfile"; exit 1; }
    echo "$key" >"$stamp"
  fi
done

echo "OLLAMA_HOST=http://$OLLAMA_HOST"
echo "OLLAMA_TINY_PID=${PID}"
