#!/usr/bin/env bash
# Independent check of a recorder's manifest chain with openssl, sha256sum and python3 (JSON reading only).
# Usage: verify-manifests.sh RECORDINGS_DIR PUBLIC_KEY_PEM
# Checks every manifest's Ed25519 signature, the sequence (1, 2, 3, ...) and the hash links (prev = SHA-256
# of the previous manifest file), and the SHA-256 of every file of every recording that no deletion entry
# covers. Exit 0 when all holds; 1 otherwise. See docs/manifests.md.
set -u
dir=$1
key=$2
status=0
prev=0000000000000000000000000000000000000000000000000000000000000000
expect=1
deleted=" "
sums=$(mktemp)
trap 'rm -f "$sums"' EXIT
for m in "$dir"/manifests/[0-9]*.json; do
    [ -e "$m" ] || break
    openssl pkeyutl -verify -pubin -inkey "$key" -rawin -in "$m" -sigfile "${m%.json}.sig" || {
        echo "BAD SIGNATURE: $m"
        status=1
    }
    # seq, prev, kind, deleted seq, then "sha256  path" lines of the files
    fields=$(python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
b = m["body"]
print(m["seq"], m["prev"], b["kind"], b.get("deleted_seq", 0))
for f in b.get("files", []):
    if isinstance(f, dict):
        print(m["seq"], f["sha256"] + "  " + f["path"])
' "$m")
    read -r seq mprev kind del <<<"$(head -n1 <<<"$fields")"
    if [ "$seq" != "$expect" ]; then
        echo "CHAIN BROKEN: expected entry $expect, found entry $seq in $m"
        status=1
    fi
    if [ "$mprev" != "$prev" ]; then
        echo "CHAIN BROKEN: $m does not link to the previous manifest"
        status=1
    fi
    [ "$kind" = deletion ] && deleted="$deleted$del "
    tail -n +2 <<<"$fields" >>"$sums"
    prev=$(sha256sum "$m" | cut -d' ' -f1)
    expect=$((seq + 1))
done
echo "chain head: entry $((expect - 1)) sha256 $prev (compare with the head published elsewhere)"
# files of recordings not covered by a deletion entry
while read -r seq line; do
    case "$deleted" in *" $seq "*) continue ;; esac
    (cd "$dir" && printf '%s\n' "$line" | sha256sum -c --quiet -) || status=1
done <"$sums"
[ "$status" = 0 ] && echo "intact"
exit $status
