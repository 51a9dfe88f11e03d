#!/usr/bin/env bash
# Regenerate the completion scripts from the installed app (tests/test_completions.py
# fails when these files drift from what the app generates).
set -euo pipefail
cd "$(dirname "$0")"
gen() { _CARTESIA_CLI_COMPLETE="source_$1" cartesia-cli | sed '/./,$!d'; }
gen bash > cartesia-cli.bash
gen zsh > _cartesia-cli
gen fish > cartesia-cli.fish
