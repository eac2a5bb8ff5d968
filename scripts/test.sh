#!/usr/bin/env bash
# Runs lvskit's test tiers in order and reports which ran:
#   check  static checks (make check)
#   unit   go test -race -shuffle=on, privileged tests excluded
#   netns  TestIntegration*: network namespaces, real keepalived/nginx/nft (root)
#   vm     TestVM*: IPVS on a real kernel, natively or in the test VM (root)
# The privileged tiers run only as root on Linux; otherwise they are reported
# as skipped with the reason. With LVSKIT_REQUIRE_PRIVILEGED=1 (CI) a tier
# that cannot run is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
declare -A result
order=(check unit netns vm)
failed=0

run_tier() {
  local name=$1; shift
  echo
  echo "=== tier $name: $*"
  local start=$SECONDS
  if "$@"; then
    result[$name]="passed ($((SECONDS - start)) s)"
  else
    result[$name]="FAILED ($((SECONDS - start)) s)"
    failed=1
  fi
}

skip_tier() {
  local name=$1 why=$2
  echo
  echo "=== tier $name: SKIPPED: $why"
  if [ "${LVSKIT_REQUIRE_PRIVILEGED:-}" = 1 ]; then
    result[$name]="FAILED (cannot run: $why; LVSKIT_REQUIRE_PRIVILEGED=1)"
    failed=1
  else
    result[$name]="SKIPPED ($why)"
  fi
}

run_tier check make --no-print-directory check
run_tier unit "$GO" test -race -shuffle=on -count=1 -skip '^(TestIntegration|TestVM)' ./...

why=""
[ "$(uname -s)" = Linux ] || why="not Linux"
[ -z "$why" ] && [ "$(id -u)" != 0 ] && why="not root"
if [ -n "$why" ]; then
  skip_tier netns "$why"
  skip_tier vm "$why"
else
  run_tier netns "$GO" test -count=1 -timeout 30m -run '^TestIntegration' ./...
  run_tier vm "$GO" test -count=1 -timeout 40m -run '^TestVM' ./...
fi

echo
echo "=== lvskit test tiers"
for t in "${order[@]}"; do
  printf '  %-6s %s\n' "$t" "${result[$t]}"
done
exit $failed
