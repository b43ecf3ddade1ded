#!/usr/bin/env bash
# Fetches the Mermaid bundle the web view (runtime/webview) embeds, so the page
# draws the topology with no internet: dist/mermaid.min.js of the npm package
# mermaid at the pinned version below, with its license and third-party notices.
# The files are committed; run this only to move to another version (then update
# VERSION and SHA256 and commit the result). Needs npm, tar and sha256sum.
set -euo pipefail

VERSION=12.4.0
SHA256=c0891e4c0413d0710ad193b431d8cbbe9d031636e51c467d11daa4721ba22094

dest="$(cd "$(dirname "$0")/.." && pwd)/runtime/webview/static"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mermaid@$VERSION" >/dev/null && tar xzf "mermaid-$VERSION.tgz")
got="$(sha256sum "$tmp/package/dist/mermaid.min.js" | cut -d' ' -f1)"
if [ "$got" != "$SHA256" ]; then
  echo "fetch-mermaid: mermaid@$VERSION dist/mermaid.min.js has sha256 $got, want $SHA256" >&2
  exit 1
fi
cp "$tmp/package/dist/mermaid.min.js" "$dest/mermaid.min.js"
cp "$tmp/package/LICENSE" "$dest/mermaid.LICENSE"
cp "$tmp/package/THIRD_PARTY_NOTICES" "$dest/mermaid.THIRD_PARTY_NOTICES"
echo "fetch-mermaid: mermaid@$VERSION into $dest"
