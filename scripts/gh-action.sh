#!/usr/bin/env bash
# The shell logic of the apictl GitHub Action (action.yml at the repository
# root): install apictl, run one command with -o markdown, append its output
# to the step summary and set the step outputs. Tests run it locally with
# fake GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files (cmd/apictl/action_test.go).
#
# Inputs (environment):
#   INPUT_VERSION  latest (default) | vX.Y.Z | source (build from the action's
#                  checkout; needs Go) | installed (apictl already on PATH)
#   INPUT_COMMAND  the command, e.g. "loadtest", "apply-plan", "plan validate"
#   INPUT_ARGS     its arguments, shell-quoted as on a command line
# Outputs (GITHUB_OUTPUT):
#   exit-code        apictl's exit code (0 ok, 1 error, 2 changes pending,
#                    3 objectives not met or findings)
#   sustainable-rps  loadtest --find-max: the sustainable rate found
#   changes-pending  apply-plan: true when a dry run found changes to make
# The step fails with apictl's exit code, except 2 (changes pending), which
# is reported through changes-pending instead.
set -uo pipefail

die() { echo "::error::apictl action: $*" >&2; exit 1; }

: "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set (run inside GitHub Actions or set it to a file)}"
: "${GITHUB_STEP_SUMMARY:?GITHUB_STEP_SUMMARY is not set (run inside GitHub Actions or set it to a file)}"
version="${INPUT_VERSION:-latest}"
command="${INPUT_COMMAND:-}"
args="${INPUT_ARGS:-}"
repo="${APICTL_ACTION_REPO:-apictl/apictl}"
[ -n "$command" ] || die "the command input is required (e.g. loadtest, apply-plan, plan validate)"

install_release() {
  local v="$1" os arch dir url tag
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "unsupported runner OS $(uname -s)" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported runner architecture $(uname -m)" ;;
  esac
  if [ "$v" = latest ]; then
    # The latest release's tag, from the redirect of /releases/latest.
    tag=$(curl -fsSLI -o /dev/null -w '%{url_effective}' "https://github.com/$repo/releases/latest") || die "cannot resolve the latest release of $repo"
    tag="${tag##*/}"
  else
    tag="v${v#v}"
  fi
  dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/apictl-$tag"
  mkdir -p "$dir"
  url="https://github.com/$repo/releases/download/$tag"
  local archive="apictl_${tag#v}_${os}_${arch}.tar.gz"
  curl -fsSL -o "$dir/$archive" "$url/$archive" || die "cannot download $url/$archive"
  curl -fsSL -o "$dir/checksums.txt" "$url/checksums.txt" || die "cannot download $url/checksums.txt"
  (cd "$dir" && grep " $archive\$" checksums.txt | sha256sum -c - >/dev/null) || die "checksum mismatch for $archive"
  tar -xzf "$dir/$archive" -C "$dir" apictl || die "cannot unpack $archive"
  apictl="$dir/apictl"
}

case "$version" in
  installed)
    apictl=$(command -v apictl) || die "version: installed, but apictl is not on PATH"
    ;;
  source)
    src="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
    dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/apictl-source"
    mkdir -p "$dir"
    (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$dir/apictl" ./cmd/apictl) || die "go build of apictl failed (version: source needs Go, e.g. actions/setup-go)"
    apictl="$dir/apictl"
    ;;
  *)
    install_release "$version"
    ;;
esac
echo "apictl: $("$apictl" version)"

# Split the inputs as a shell would (quotes respected); they are the
# workflow author's own command line.
read -r -a cmd_words <<<"$command"
eval "set -- $args" || die "cannot parse the args input: $args"

out=$(mktemp)
"$apictl" "${cmd_words[@]}" "$@" -o markdown >"$out"
code=$?
cat "$out"

{
  echo "### apictl $command"
  echo
  cat "$out"
  echo
} >>"$GITHUB_STEP_SUMMARY"

echo "exit-code=$code" >>"$GITHUB_OUTPUT"
case "${cmd_words[0]}" in
  loadtest)
    rps=$(sed -n 's/^- \*\*Sustainable RPS:\*\* \([0-9.][0-9.]*\).*/\1/p' "$out" | head -n 1)
    echo "sustainable-rps=$rps" >>"$GITHUB_OUTPUT"
    ;;
  apply-plan)
    pending=false
    dry=false
    for a in "$@"; do [ "$a" = --dry-run ] && dry=true; done
    if [ "$code" = 2 ] || { [ "$dry" = true ] && grep -q '^Plan: ' "$out"; }; then
      pending=true
    fi
    echo "changes-pending=$pending" >>"$GITHUB_OUTPUT"
    ;;
esac
rm -f "$out"

if [ "$code" = 0 ] || [ "$code" = 2 ]; then
  exit 0
fi
exit "$code"
