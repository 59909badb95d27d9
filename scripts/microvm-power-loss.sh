#!/usr/bin/env bash
# The microVM power-loss test, 10 kills in a row (the test suite runs 2): a gateway VM with its
# data dir on a cache=none virtio-blk volume, 32 concurrent writers, qemu SIGKILLed; after each
# cold boot every acknowledged object must be intact and nothing torn visible.
#   scripts/microvm-power-loss.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
ERNE_POWER_LOSS_ROUNDS="${1:-10}" exec npx vitest run test/machines/microvm-power-loss.test.ts
