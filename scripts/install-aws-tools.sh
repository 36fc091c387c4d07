#!/usr/bin/env bash
# Installs the pinned SAM CLI, cfn-lint and AWS CLI (scripts/aws-tools-requirements.txt) into the
# checkout's git-ignored virtualenv .venv/. A no-op when all are already there at those versions.
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=scripts/aws-tools-requirements.txt

installed() {
  [ -x .venv/bin/sam ] && [ -x .venv/bin/cfn-lint ] && [ -x .venv/bin/aws ] || return 1
  local frozen
  frozen=$(.venv/bin/python -m pip freeze --disable-pip-version-check 2>/dev/null) || return 1
  # Every pinned line of the requirements file must appear verbatim in the freeze.
  grep -E '^[A-Za-z0-9_.-]+==' "$requirements" | while read -r pin; do
    grep -qixF "$pin" <<<"$frozen" || exit 1
  done
}

if installed; then
  echo "AWS tools already installed in .venv/ ($(tr '\n' ' ' < <(grep -E '==' "$requirements")))"
  exit 0
fi
[ -d .venv ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
.venv/bin/sam --version
.venv/bin/cfn-lint --version
.venv/bin/aws --version
