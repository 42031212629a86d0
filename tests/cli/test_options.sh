#!/usr/bin/env bash
# test_options.sh BINARY MANDIR COMPLETION - every option of every command's
# table (tools/cli/options.h): parses in its long and short form (help
# --check-options parses each alone, in the process, running nothing), and
# appears in the command's --help, in its man page and in the bash
# completion; the completion offers the commands and a command's options.
set -u
KS=${1:?usage: test_options.sh BINARY MANDIR COMPLETION}
MAN=${2:?}
COMPLETION=${3:?}
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$KS" help --check-options > "$tmp/check" 2>&1 || check_failed "help --check-options: $(grep -v '^MODULE\|^[a-z-]* *[0-9]' "$tmp/check" | tail -5)"
grep -q " 0 failures" "$tmp/check" || check_failed "help --check-options: $(tail -1 "$tmp/check")"

"$KS" help --options > "$tmp/options" || fail "help --options: status $?"
count=$(wc -l < "$tmp/options")
[ "$count" -ge 90 ] || check_failed "only $count options listed"
commands=$("$KS" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ "$(echo $commands | wc -w)" -eq 15 ] || check_failed "not 15 commands: $commands"

# The completion's case branch of each command, for the lookups below.
branch() { awk -v c="    $1)" '$0 == c { on = 1; next } on && /^    [a-z]+\)$/ { exit } on' "$COMPLETION"; }

for cmd in $commands; do
    "$KS" "$cmd" --help > "$tmp/help-$cmd" || check_failed "$cmd --help: status $?"
    [ -s "$MAN/kubesurvey-$cmd.1" ] || check_failed "no man page kubesurvey-$cmd.1"
    branch "$cmd" > "$tmp/comp-$cmd"
    [ -s "$tmp/comp-$cmd" ] || check_failed "no completion branch for $cmd"
    grep -q "kubesurvey\\\\-$cmd" "$MAN/kubesurvey.1" || check_failed "kubesurvey(1) does not name $cmd"
done
while read -r cmd long short; do
    grep -qF -- "$long" "$tmp/help-$cmd" || check_failed "$cmd --help lacks $long"
    roff_long=${long//-/\\-}
    grep -qF -- "$roff_long" "$MAN/kubesurvey-$cmd.1" || check_failed "kubesurvey-$cmd(1) lacks $long"
    grep -qE -- "[ '|]$long[ |')]" "$tmp/comp-$cmd" || check_failed "completion of $cmd lacks $long"
    if [ -n "$short" ]; then
        grep -qF -- "$short, $long" "$tmp/help-$cmd" || check_failed "$cmd --help lacks $short, $long"
        grep -qF -- "\\$short, $roff_long" "$MAN/kubesurvey-$cmd.1" || check_failed "kubesurvey-$cmd(1) lacks $short"
        grep -qE -- "[ '|]$short[ |')]" "$tmp/comp-$cmd" || check_failed "completion of $cmd lacks $short"
    fi
done < "$tmp/options"

# The completion itself, in bash: commands, a command's options, a value.
complete_words() { # WORDS... -> what _kubesurvey offers for the last word
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kubesurvey; printf "%s\n" "${COMPREPLY[@]}"' \
        sh "$COMPLETION" "$@"
}
[ "$(complete_words kubesurvey sc | sort | tr '\n' ' ')" = "scan scans " ] ||
    check_failed "kubesurvey sc<TAB>: $(complete_words kubesurvey sc | tr '\n' ' ')"
complete_words kubesurvey scan --no- | grep -qx -- --no-blocklist ||
    check_failed "kubesurvey scan --no-<TAB> lacks --no-blocklist"
[ "$(complete_words kubesurvey scan --send-method '' | sort | tr '\n' ' ')" = "libnet mmsg " ] ||
    check_failed "kubesurvey scan --send-method <TAB>: $(complete_words kubesurvey scan --send-method '')"
[ "$(complete_words kubesurvey export DB --format c)" = "csv" ] ||
    check_failed "kubesurvey export --format c<TAB>"

# man renders the page (when man is installed)
if command -v man > /dev/null; then
    MANWIDTH=80 man -l "$MAN/kubesurvey-scan.1" 2>&1 | grep -q -- "--blocklist FILE" ||
        check_failed "man -l kubesurvey-scan.1 does not render --blocklist FILE"
fi
[ "$TEST_FAILS" -eq 0 ] || exit 1
echo "ok: $count options of $(echo $commands | wc -w) commands in --help, man pages and completion"
