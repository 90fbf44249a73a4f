#!/usr/bin/env bash
# Smoke test: drive `smvue-tui --demo` in tmux the way a new user would, from the Connect
# screen to the pipelines: choose Production, review, approve with one key, read the preflight,
# start the initial sync, wait for it, continue to team mapping, then pipelines, quit.
# Fails on a timeout or on any "Traceback" in the pane, the stderr capture or the log.
# Everything is written under a temporary SMVUE_HOME, removed at the end (kept on failure).
#   SMOKE_SIZE=80x24   the terminal size (default 120x40)
#   SMOKE_OUT=DIR      keep the text of every screen visited in DIR (connect … help)
set -euo pipefail

if ! command -v tmux >/dev/null; then
    apt-get update -qq && apt-get install -y -qq tmux >/dev/null
fi

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK_DIR=$(mktemp -d -t smvue-smoke.XXXXXX)
HOME_DIR="$WORK_DIR/home"  # the app's SMVUE_HOME; the script's own files stay beside it
SESSION="smvue-smoke-$$"
PANE_LOG="$WORK_DIR/pane.txt"
STREAM_LOG="$WORK_DIR/terminal.txt"  # everything the app wrote to the terminal
TIMEOUT=${SMOKE_TIMEOUT:-120}
SIZE=${SMOKE_SIZE:-120x40}
COLS=${SIZE%x*}
ROWS=${SIZE#*x}
OUT=${SMOKE_OUT:-}
[[ -z $OUT ]] || mkdir -p "$OUT"
PYTHON=$(python3 -c 'import sys; print(sys.executable)')
APP=${SMVUE_TUI:-"$PYTHON -m smvue_tui"}
USER_HOME="$WORK_DIR/user-home"  # HOME for the app: must stay empty (all under SMVUE_HOME)
mkdir -p "$USER_HOME"

cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
}
trap cleanup EXIT

fail() {
    echo "SMOKE FAILED: $*" >&2
    echo "--- last screen ---" >&2
    tmux capture-pane -p -t "$SESSION" 2>/dev/null >&2 || cat "$PANE_LOG" >&2 || true
    echo "(files kept in $WORK_DIR)" >&2
    exit 1
}

capture() {
    tmux capture-pane -p -t "$SESSION" > "$PANE_LOG" 2>/dev/null || return 1
    if grep -q "Traceback" "$PANE_LOG"; then fail "Traceback on screen"; fi
}

wait_for() {  # wait_for TEXT: until TEXT is on screen, at most $TIMEOUT seconds
    local text=$1 waited=0
    while (( waited < TIMEOUT * 5 )); do
        capture || fail "tmux session ended while waiting for: $text"
        if grep -q "SMVUE-EXITED" "$PANE_LOG"; then fail "the app exited while waiting for: $text"; fi
        if grep -qF -- "$text" "$PANE_LOG"; then
            echo "ok: $text"
            return 0
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    fail "timed out waiting for: $text"
}

press() {  # a pause after Escape: Escape then a key at once reads as alt+key
    tmux send-keys -t "$SESSION" "$@"
    [[ " $* " != *" Escape "* ]] || sleep 0.3
}

keep() {  # keep NAME: the screen as it is now, into $SMOKE_OUT/NAME.txt
    [[ -z $OUT ]] && return 0
    sleep 0.5
    tmux capture-pane -p -t "$SESSION" > "$OUT/$1.txt"
}

# The pane outlives the app (sleep) so a crash stays readable; pipe-pane keeps the whole stream.
tmux new-session -d -s "$SESSION" -x "$COLS" -y "$ROWS" \
    "cd '$ROOT' && env HOME='$USER_HOME' SMVUE_HOME='$HOME_DIR' TERM=xterm-256color $APP --demo; echo SMVUE-EXITED \$?; sleep 60"
tmux pipe-pane -t "$SESSION" -o "cat >> '$STREAM_LOG'"

wait_for "Choose your Salesforce environment"
wait_for "Production — Most common"
keep connect
press Enter                                  # Production (highlighted first)
wait_for "Review the permissions SMVue is requesting"
wait_for "read-only and never"              # first on the page, at any size
keep connect-permissions
press Enter                                  # log in
wait_for "Demo org: press a to approve"
keep connect-login
press a                                      # approve the consent page with one key
wait_for "All set. Press Enter to start the initial sync."
keep connect-preflight
press Enter                                  # start the initial sync
wait_for "Initial sync finished"
keep sync-progress
press Enter                                  # continue to team mapping
wait_for "Team Member Mapping"
keep team-mapping
press p                                      # then the pipelines
wait_for "Risk-adjusted"
sleep 1
capture || fail "the app exited on the pipelines screen"
cp "$PANE_LOG" "$WORK_DIR/pipelines.txt"
keep pipelines
press Enter                                  # the deal under the cursor
wait_for "Close date"                        # the deal page (at 80x24 its risk flags come first)
keep deal-detail
press Escape
wait_for "Risk-adjusted"
press R                                      # the deal's owner's rep view (the inspection)
wait_for "12 months: win rate"
keep inspection-rep-view
press 4                                      # the charts: the quarter's waterfall
wait_for "This quarter's open pipeline"     # (at 80x24 in a rep's view the forecast is a scroll away)
keep inspection-charts
press 3                                      # figures per rep, their headers naming the period
wait_for "12 mo"
keep inspection-reps
press p
wait_for "Risk-adjusted"
press w
wait_for "Why is this deal missing"
keep why-missing
press Escape
press f
wait_for "CRM Field Mapping"
keep field-mapping
press i
wait_for "Settings > Integrations"
keep integrations
press '?'
wait_for "remap them in config.toml"
keep help
press Escape
press p
wait_for "Risk-adjusted"
press q
for _ in $(seq 1 100); do
    tmux capture-pane -p -t "$SESSION" > "$PANE_LOG" 2>/dev/null || break
    grep -q "SMVUE-EXITED" "$PANE_LOG" && break
    sleep 0.2
done
grep -q "SMVUE-EXITED 0" "$PANE_LOG" || fail "smvue-tui exited with an error"

for file in "$STREAM_LOG" "$HOME_DIR/logs/smvue-tui.log"; do
    if [[ -f $file ]] && grep -q "Traceback" "$file"; then fail "Traceback in $file"; fi
done
stray=$(find "$USER_HOME" -mindepth 1 | head -5)
[[ -z $stray ]] || fail "files written outside SMVUE_HOME: $stray"
held=$(find "$HOME_DIR" -maxdepth 1 -mindepth 1 -printf '%f\n' | sort | tr '\n' ' ')
echo "SMVUE_HOME held: $held"
echo "SMOKE OK ($SIZE): Connect → approve → preflight → initial sync → team mapping → pipelines → deal → why missing → fields → integrations → keys${OUT:+ (screens in $OUT)}"
rm -rf "$WORK_DIR"
