# SPDX-License-Identifier: LGPL-2.1-or-later
# The steps and checks of the shell tests (cli-harness.sh, the package
# test): source it.  A test says what it does with step, counts its checks
# in $checks and its failures in $failures (fail), and ends with
#
#   echo "# $checks checks, $failures failures, $(elapsed) s"
#   ((failures == 0))

t0=$EPOCHREALTIME
failures=0
checks=0
what=

# Seconds since the test began, one decimal.
elapsed() { awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

step() {
        what=$*
        echo "# [$(elapsed) s] $what"
}

fail() {
        echo "FAIL: $what: $*" >&2
        failures=$((failures + 1))
}

# check DESCRIPTION COMMAND...: one check, failed if COMMAND fails.
check() {
        local description=$1
        shift
        checks=$((checks + 1))
        if "$@"; then
                echo "ok - $description"
        else
                fail "$description"
                return 1
        fi
}
