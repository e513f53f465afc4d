#!/usr/bin/env bash
# Mutation testing (mutmut 3, configured in pyproject.toml [tool.mutmut]) of the model gateway,
# the sweep's budget, estimate and shards, the spec loader and event visibility, then the score
# per module and every surviving mutant.
#
#   scripts/mutation.sh                             # all of them: about 1,900 mutants, hours
#   scripts/mutation.sh 'traitors.sweep.budget.*'   # some: mutmut's mutant-name globs
#
# Measured on the 2-core machine (shared): 10-20 mutants a minute; mutants of functions that
# every spec load or every model call reaches (check_size, Gateway.complete) run the most tests.
#
# Run from anywhere, with the dev extra installed; mutmut copies the tree into mutants/ and
# keeps its results there (a second run only checks what changed). One child process, niced.
set -euo pipefail
cd "$(dirname "$0")/.."
MUTANTS=(
    'traitors.llm.gateway.*'
    'traitors.sweep.budget.*'
    'traitors.sweep.estimate.*'
    'traitors.store.shards.*'
    'traitors.util.specfile.*'
    'traitors.episode.spec.*'
    'traitors.sweep.spec.*'
    'traitors.game.events.x_audience__*'
    'traitors.game.events.x_visible_to__*'
    'traitors.game.events.x_player_view__*'
    'traitors.game.events.xǁLogChannelsǁ*'
)
if [ "$#" -gt 0 ]; then MUTANTS=("$@"); fi
nice -n 10 python -m mutmut run --max-children 1 "${MUTANTS[@]}" || true
python scripts/mutation_score.py "${MUTANTS[@]}"
