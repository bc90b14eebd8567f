#!/bin/sh
# bootmedia-mp.sh — ask the management points for this machine's policy (docs/mp-protocol.md).
# Reference for the boot agent: busybox sh (nc, sed, base64, sha256sum, timeout) + the OpenSSL 3
# `openssl` CLI, nothing else.
#
# Reads (normally from bootmedia/media.env and the unlocked secrets.env):
#   BM_MEDIA_ID BM_TASK_SEQUENCE BM_MP_MODE BM_MPS BM_UNKNOWN_COMPUTERS BM_UDA
#   BM_MEDIA_KEY   PKCS#8 PEM private key of the media certificate (absent: unsigned requests)
#   BM_MEDIA_CERT  path of bootmedia/media.crt (default /media/bootmedia/media.crt)
# Client facts, read from the machine unless set (tests set them):
#   BM_CLIENT_MAC (from /sys/class/net/$BM_NIC/address) BM_CLIENT_UUID (SMBIOS) BM_CLIENT_IP
#   BM_NOW (seconds since 1970, default `date +%s`) BM_NIC (default eth0)
# Prints the deciding answer (one JSON line) on stdout, one line per contact on stderr.
# Exit: 0 policy, 3 unknown-computer, 4 no-deployment, 5 certificate-rejected,
#       6 bad-request or other answer, 7 no management point answered.
set -u
TMP=$(mktemp -d) || exit 7
trap 'rm -rf "$TMP"' EXIT
umask 077
NIC=${BM_NIC:-eth0}
CERT=${BM_MEDIA_CERT:-/media/bootmedia/media.crt}
MAC=${BM_CLIENT_MAC-$(cat "/sys/class/net/$NIC/address" 2>/dev/null)}
UUID=${BM_CLIENT_UUID-$(tr 'A-F' 'a-f' 2>/dev/null </sys/class/dmi/id/product_uuid)}
IP=${BM_CLIENT_IP-$(ip -4 -o addr show dev "$NIC" 2>/dev/null | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p' | head -n 1)}

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }
# answer_field NAME FILE: the string value of "NAME" in a one-line JSON answer.
answer_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$2"; }

# The body: compact JSON, keys in protocol order; these exact bytes are signed and sent.
write_body() {
	printf '{"v":1,"mediaId":%s,"taskSequence":%s,"mode":%s,"mac":%s' \
		"$(json_str "$BM_MEDIA_ID")" "$(json_str "$BM_TASK_SEQUENCE")" "$(json_str "$BM_MP_MODE")" "$(json_str "$MAC")"
	[ -n "$UUID" ] && printf ',"uuid":%s' "$(json_str "$UUID")"
	[ -n "$IP" ] && printf ',"ip":%s' "$(json_str "$IP")"
	printf ',"unknownComputers":%s,"uda":%s,"timestamp":%s,"nonce":"%s"}' \
		"$BM_UNKNOWN_COMPUTERS" "$(json_str "$BM_UDA")" "${BM_NOW:-$(date +%s)}" "$(openssl rand -hex 16)"
}

# write_request HOST: the raw HTTP/1.1 request; signed (self-signed media over http) when asked.
write_request() {
	printf 'POST /bootmedia/v1/policy HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n' \
		"$1" "$(wc -c <"$TMP/body")"
	if [ "${2:-}" = signed ]; then
		sig=$(openssl dgst -sha256 -sign "$TMP/key.pem" "$TMP/body" | base64 -w 0)
		fp=$(openssl x509 -in "$CERT" -outform DER | sha256sum | cut -d ' ' -f 1)
		printf 'X-Bootmedia-Signature: %s\r\nX-Bootmedia-Certificate-Sha256: %s\r\n' "$sig" "$fp"
	fi
	printf '\r\n'
	cat "$TMP/body"
}

# post URL: http through busybox nc, https (mutual TLS with the media certificate) through
# openssl s_client. Raw HTTP rather than wget: busybox wget drops the body of a 4xx answer.
post() {
	scheme=${1%%://*}
	hostport=${1#*://}
	hostport=${hostport%%/*}
	host=${hostport%:*}
	port=${hostport##*:}
	[ "$port" = "$hostport" ] && { [ "$scheme" = https ] && port=443 || port=80; }
	[ -n "${BM_MEDIA_KEY:-}" ] && printf '%s\n' "$BM_MEDIA_KEY" >"$TMP/key.pem"
	if [ "$scheme" = https ]; then
		write_request "$host" | timeout 20 openssl s_client -quiet -connect "$host:$port" -cert "$CERT" -key "$TMP/key.pem" \
			${BM_MP_CA:+-CAfile "$BM_MP_CA" -verify_return_error} 2>/dev/null >"$TMP/response"
	else
		write_request "$host" ${BM_MEDIA_KEY:+signed} | timeout 20 nc "$host" "$port" >"$TMP/response" 2>/dev/null
	fi
	# The answer is one JSON line, the last of the response (Content-Length, Connection: close).
	tail -n 1 "$TMP/response" | grep '^{' >"$TMP/answer"
}

# ask URL: one contact; leaves the answer in $TMP/answer and its result in $result.
ask() {
	: >"$TMP/answer"
	post "$1"
	result=$(answer_field result "$TMP/answer")
	echo "mp $1: ${result:-no answer}" >&2
}

write_body >"$TMP/body"
for mp in $BM_MPS; do
	ask "$mp"
	if [ "$result" = redirect ] && [ "$BM_MP_MODE" = dynamic ]; then
		# One redirect at most: the boundary's MP decides, it never sends the client on again.
		write_body >"$TMP/body"
		ask "$(answer_field mp "$TMP/answer")"
	fi
	[ -n "$result" ] && break
	write_body >"$TMP/body" # a fresh nonce for the next MP
done
[ -n "$result" ] || exit 7
cat "$TMP/answer"
case "$result" in
policy) exit 0 ;; unknown-computer) exit 3 ;; no-deployment) exit 4 ;; certificate-rejected) exit 5 ;; *) exit 6 ;;
esac
