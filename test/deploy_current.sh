#!/usr/bin/env bash
# Fails when deploy/ (plain manifests, the Helm chart's CRDs) is not what scripts/gen-deploy.sh
# makes from the current `arca install`: run `scripts/gen-deploy.sh build/arca` and commit.
set -Eeuo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arca=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$repo/scripts/gen-deploy.sh" "$arca" "$tmp"
status=0
for f in manifests/server.yaml manifests/backupstoragelocation-s3.yaml; do
  diff -u "$repo/deploy/$f" "$tmp/$f" || status=1
done
diff -ru "$repo/deploy/crds" "$tmp/helm/arca/crds" || status=1
diff -ru "$repo/deploy/crds" "$repo/deploy/helm/arca/crds" || status=1
python3 "$repo/scripts/gen-crds.py" "$tmp/crds"
diff -ru "$repo/deploy/crds" "$tmp/crds" || status=1
if [ $status -ne 0 ]; then
  echo "deploy/ is out of date: run scripts/gen-crds.py and scripts/gen-deploy.sh build/arca" >&2
fi
exit $status
