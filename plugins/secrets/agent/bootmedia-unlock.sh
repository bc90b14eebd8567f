#!/bin/sh
# bootmedia-unlock.sh MEDIA_ROOT [SECRETS_OUT] — password on stdin (one line).
# Reference for the boot environment (busybox sh + OpenSSL 3 `openssl` binary):
#   1. checks the password against bootmedia/password.sha512crypt with busybox mkpasswd;
#   2. if bootmedia/secrets.enc exists, verifies its HMAC-SHA256 tag and decrypts it
#      (scrypt -> AES-256-CBC) into SECRETS_OUT (mode 600; default /run/bootmedia/secrets.env).
# Exit: 0 unlocked; 3 wrong password; 4 secrets.enc altered or unreadable; 2 usage/no verifier.
# Format: plugins/secrets/README.md. The password never appears in argv (stdin / fd only),
# except hex-encoded in `openssl kdf -kdfopt hexpass:` which has no other input.
set -eu
root=${1:?usage: bootmedia-unlock.sh MEDIA_ROOT [SECRETS_OUT]}
out=${2:-/run/bootmedia/secrets.env}
cfg=$root/bootmedia
IFS= read -r pw || [ -n "$pw" ]

[ -f "$cfg/password.sha512crypt" ] || exit 2
read -r verifier < "$cfg/password.sha512crypt"
setting=${verifier#\$6\$}   # rounds=N$salt$hash
setting=${setting%\$*}      # rounds=N$salt
computed=$(printf '%s' "$pw" | busybox mkpasswd -m sha512 -P 0 -S "$setting")
[ "$computed" = "$verifier" ] || exit 3

enc=$cfg/secrets.enc
[ -f "$enc" ] || exit 0
hex() { xxd -p -c 256 | tr -d '\n'; }
[ "$(head -c 8 "$enc")" = "BMSECRT1" ] || exit 4
head_hex=$(head -c 64 "$enc" | hex)
field() { echo "$head_hex" | cut -c$(($1 * 2 + 1))-$((($1 + $2) * 2)); }
[ "$(field 8 1)" = "01" ] && [ "$(field 9 1)" = "01" ] || exit 4
log2n=$((0x$(field 10 1))); r=$((0x$(field 11 1))); p=$((0x$(field 12 1)))
[ "$log2n" -le 20 ] || exit 4
salt=$(field 16 32); iv=$(field 48 16)
keys=$(openssl kdf -keylen 64 -binary -kdfopt hexpass:"$(printf '%s' "$pw" | hex)" -kdfopt hexsalt:"$salt" \
  -kdfopt n:$((1 << log2n)) -kdfopt r:$r -kdfopt p:$p SCRYPT | hex)
enc_key=$(echo "$keys" | cut -c1-64); mac_key=$(echo "$keys" | cut -c65-128)
size=$(wc -c < "$enc")
tag=$(head -c $((size - 32)) "$enc" | openssl dgst -sha256 -mac HMAC -macopt hexkey:"$mac_key" -binary | hex)
[ "$tag" = "$(tail -c 32 "$enc" | hex)" ] || exit 4
mkdir -p "$(dirname "$out")"
umask 077
tail -c +65 "$enc" | head -c $((size - 96)) | openssl enc -d -aes-256-cbc -K "$enc_key" -iv "$iv" > "$out" || exit 4
