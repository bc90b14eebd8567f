#!/bin/sh
# read-package.sh MEDIA_ROOT[:DISC2_ROOT:…] PACKAGE PATH OUT — the media password on stdin (one line).
# What the boot environment does to read a package file of stand-alone media
# (docs/standalone-media.md), with busybox-class tools and the OpenSSL 3 CLI only:
# the pieces joined with cat and streamed through `openssl enc -d -aes-256-ctr` while
# `openssl dgst -sha256 -mac HMAC` reads the same bytes from a FIFO; the tag is compared
# at the end of the stream (the caller then checks the plaintext's sha256).
# A CD/DVD set: the discs' extracted trees, disc 1 first, separated by colons; each piece is
# read from the disc its C line names (one root: every piece from it).
# Exit: 0 read and the tag matches; 5 index.mac does not match (wrong password, or the program
# or index altered: nothing decrypted); 4 tag mismatch (altered bytes); 2 usage or a disc missing.
set -eu
[ $# -eq 4 ] || exit 2
roots=$1; pkg=$2; path=$3; out=$4
root=${roots%%:*}
disc_root() {
  case $roots in *:*) r=$(echo "$roots" | tr ':' '\n' | sed -n "$1p"); [ -n "$r" ] || exit 2; echo "$r" ;; *) echo "$root" ;; esac
}
IFS= read -r pw || [ -n "$pw" ]
idx=$root/bootmedia/standalone/content.txt
hex() { od -An -v -tx1 | tr -d ' \n'; }
tab=$(printf '\t')
b64path=$(printf '%s' "$path" | base64 -w 0)
line=$(grep "^F${tab}${pkg}${tab}" "$idx" | awk -F '\t' -v f="$b64path" '$10 == f') || exit 2
cipher=$(echo "$line" | cut -f5); iv=$(echo "$line" | cut -f6); tag=$(echo "$line" | cut -f7)
pieces=$(grep "^C${tab}${pkg}${tab}" "$idx" | awk -F '\t' -v f="$b64path" '$7 == f { print $3 "\t" $4 "\t" $8 }' | sort -n |
  while IFS="$tab" read -r n disc mp; do printf '%s/%s\n' "$(disc_root "$disc")" "$(echo "$mp" | base64 -d)"; done)
if [ "$cipher" = none ]; then
  # shellcheck disable=SC2086
  cat $pieces > "$out"
  exit 0
fi
IFS="$tab" read -r _ _ n r p salt <<KDF
$(grep "^K${tab}" "$idx")
KDF
keys=$(openssl kdf -keylen 64 -binary -kdfopt hexpass:"$(printf '%s' "$pw" | hex)" -kdfopt hexsalt:"$salt" \
  -kdfopt n:"$n" -kdfopt r:"$r" -kdfopt p:"$p" SCRYPT | hex)
enc_key=$(echo "$keys" | cut -c1-64); mac_key=$(echo "$keys" | cut -c65-128)
# The program and the index are trusted only once index.mac says they are the build's.
mac=$({ printf 'bootmedia-standalone-index\000'; cat "$root/bootmedia/standalone/task-sequence.txt" "$idx"; } |
  openssl dgst -sha256 -mac HMAC -macopt hexkey:"$mac_key" -r | cut -d ' ' -f 1)
[ "$mac" = "$(cat "$root/bootmedia/standalone/index.mac")" ] || exit 5
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkfifo "$work/mac"
openssl dgst -sha256 -mac HMAC -macopt hexkey:"$mac_key" -r < "$work/mac" | cut -d ' ' -f 1 > "$work/tag" &
# shellcheck disable=SC2086
cat $pieces | tee "$work/mac" | openssl enc -d -aes-256-ctr -K "$enc_key" -iv "$iv" > "$out"
wait
[ "$(cat "$work/tag")" = "$tag" ] || exit 4
