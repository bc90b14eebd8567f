# shellcheck shell=sh
# Sourced by /init. Stand-alone media (docs/standalone-media.md): the task sequence, its packages
# and its variables are on the media; no network, no management point. This file opens them
# (the content keys from the media password, index.mac checked before any line of the index is
# trusted), reads package files (pieces joined in order, asking for the disc each is on,
# decrypted while streaming: AES-256-CTR with the HMAC-SHA256 tag computed on a branch of the
# same stream), and keeps the engine's events and log in the media's log folder on USB media
# (CDs are read-only: the screen shows them). busybox sh + the OpenSSL 3 CLI.

SA_MEDIA_DIR=bootmedia/standalone
# What the boot keeps of the media: the program, the index and the content keys (root only).
SA_RUN=/run/bootmedia/standalone
# How long a disc prompt waits for the right disc before the step fails.
SA_DISC_TIMEOUT=3600
# The media's log folder (USB media): one folder per run.
SA_LOG_DIR=logs

is_standalone() { [ "${BM_MEDIA_TYPE-}" = standalone ]; }

# sa_keys_from_password: the password on stdin → the content keys (scrypt with the index's K line),
# "ENC MAC" in hex in SA_RUN/keys. The password reaches openssl as hex in its argv: the boot
# environment runs nothing else while it derives (the prestart command comes later).
sa_keys_from_password() {
	mkdir -p "$SA_RUN" && chmod 700 "$SA_RUN"
	IFS="$TS_TAB" read -r sa_k sa_kdf sa_n sa_r sa_p sa_salt <<EOF
$(grep "^K$TS_TAB" "$MEDIA/$SA_MEDIA_DIR/content.txt" 2>/dev/null)
EOF
	[ "$sa_k" = K ] && [ "$sa_kdf" = scrypt ] || return 1
	case "$sa_n$sa_r$sa_p" in '' | *[!0-9]*) return 1 ;; esac
	case $sa_salt in *[!0-9a-f]*) return 1 ;; esac
	sa_pwhex=$(od -An -v -tx1 | tr -d ' \n')
	sa_keys=$(openssl kdf -keylen 64 -binary -kdfopt hexpass:"$sa_pwhex" -kdfopt hexsalt:"$sa_salt" \
		-kdfopt n:"$sa_n" -kdfopt r:"$sa_r" -kdfopt p:"$sa_p" SCRYPT 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
	sa_pwhex=""
	[ ${#sa_keys} -eq 128 ] || return 1
	(umask 077 && printf '%s %s\n' "$(echo "$sa_keys" | cut -c1-64)" "$(echo "$sa_keys" | cut -c65-128)" >"$SA_RUN/keys")
	sa_keys=""
}

# sa_key enc|mac: one content key (hex).
sa_key() {
	read -r sa_ek sa_mk <"$SA_RUN/keys" 2>/dev/null || return 1
	if [ "$1" = enc ]; then echo "$sa_ek"; else echo "$sa_mk"; fi
}

# standalone_open: the program and the index copied off the media and checked; SA_OPEN set, or a
# coded failure. Replaces the management-point step on stand-alone media.
standalone_open() {
	mkdir -p "$SA_RUN" && chmod 700 "$SA_RUN"
	for sa_f in task-sequence.txt content.txt index.mac disc.txt; do
		rm -f "$SA_RUN/$sa_f"
		[ -f "$MEDIA/$SA_MEDIA_DIR/$sa_f" ] && cp "$MEDIA/$SA_MEDIA_DIR/$sa_f" "$SA_RUN/$sa_f"
	done
	IFS="$TS_TAB" read -r sa_magic sa_version SA_FILES SA_PROTECTED SA_SET SA_DISCS <"$SA_RUN/content.txt" 2>/dev/null
	if [ "$sa_magic" != bootmedia-content ] || [ "$sa_version" != 1 ] || [ ! -s "$SA_RUN/task-sequence.txt" ]; then
		step_failed "Stand-alone media" "the index or the task sequence is missing or unreadable"
		fail "standalone-unreadable"
	fi
	case "$SA_FILES$SA_DISCS" in '' | *[!0-9]*) step_failed "Stand-alone media" "the index's header is damaged" && fail "standalone-unreadable" ;; esac
	sa_how="NOT encrypted"
	if [ "$SA_PROTECTED" = 1 ]; then
		[ -s "$SA_RUN/keys" ] || { step_failed "Stand-alone media" "encrypted, and no key could be derived" && fail "standalone-locked"; }
		sa_mac=$({ printf 'bootmedia-standalone-index\000'; cat "$SA_RUN/task-sequence.txt" "$SA_RUN/content.txt"; } |
			openssl dgst -sha256 -mac HMAC -macopt hexkey:"$(sa_key mac)" -r 2>/dev/null | cut -d ' ' -f 1)
		if [ -z "$sa_mac" ] || [ "$sa_mac" != "$(head -c 64 "$SA_RUN/index.mac" 2>/dev/null)" ]; then
			step_failed "Stand-alone media" "index.mac does not match: the media were altered"
			say '{"event":"standalone","result":"tampered"}'
			fail "standalone-tampered"
		fi
		sa_how="encrypted, index authenticated"
	fi
	SA_OPEN=1
	step_ok "Stand-alone media" "$SA_FILES files on $SA_DISCS disc(s), $sa_how"
	say "{\"event\":\"standalone\",\"result\":\"ok\",\"taskSequence\":$(json_str "$BM_TASK_SEQUENCE"),\"files\":$SA_FILES,\"discs\":$SA_DISCS,\"set\":$(json_str "$SA_SET"),\"protected\":$([ "$SA_PROTECTED" = 1 ] && echo true || echo false),\"media\":$(json_str "$MEDIA_FS")}"
}

# ts_on_media ID: true when the package's location is these media (a `media:` L line).
ts_on_media() { awk -v id="$1" '$1 == id && $2 ~ /^media:/ { f = 1 } END { exit !f }' "$TS_DIR/locations" 2>/dev/null; }

# sa_file ID PATH_B64: SA_F_SHA SA_F_SIZE SA_F_CIPHER SA_F_IV SA_F_TAG SA_F_PIECES of the file's F line.
sa_file() {
	sa_line=$(awk -F "$TS_TAB" -v id="$1" -v p="$2" '$1 == "F" && $2 == id && $10 == p { print; exit }' "$SA_RUN/content.txt")
	[ -n "$sa_line" ] || return 1
	IFS="$TS_TAB" read -r _ _ SA_F_SHA SA_F_SIZE SA_F_CIPHER SA_F_IV SA_F_TAG _ SA_F_PIECES _ <<EOF
$sa_line
EOF
	case $SA_F_CIPHER in none) ;; aes-256-ctr) [ "$SA_PROTECTED" = 1 ] || return 1 ;; *) return 1 ;; esac
}

# sa_read_disc: the mounted disc's disc.txt as sa_m (its magic) sa_set sa_n sa_of (all empty without one).
sa_read_disc() {
	sa_m="" sa_set="" sa_n="" sa_of=""
	IFS="$TS_TAB" read -r sa_m _ sa_set sa_n sa_of <"$MEDIA/$SA_MEDIA_DIR/disc.txt" 2>/dev/null
}

# sa_ask_disc N ATTEMPT: the question on the screen and the prompt marker the testbed answers.
sa_ask_disc() {
	screen_warn "Insert disc $1 of $SA_DISCS of this set and close the drive."
	screen '\n'
	say "{\"event\":\"prompt\",\"for\":\"disc\",\"disc\":$1,\"of\":$SA_DISCS,\"set\":$(json_str "$SA_SET"),\"attempt\":$2,\"timeout\":$SA_DISC_TIMEOUT}"
}

# sa_need_disc N: disc N of the set in the drive and mounted on MEDIA. On USB media and single
# discs it always is. Otherwise the drive is opened and the technician asked for "disc N of M";
# each disc put in is checked (its disc.txt: this set, number N): the wrong one is named, ejected
# and asked for again. Fails after SA_DISC_TIMEOUT seconds (the reason in TS_DIR/media.err).
sa_need_disc() {
	[ "$SA_DISCS" -le 1 ] && return 0
	sa_read_disc
	[ "$sa_m" = bootmedia-disc ] && [ "$sa_set" = "$SA_SET" ] && [ "$sa_n" = "$1" ] && return 0
	: >"$TS_DIR/disc.wait"
	umount "$MEDIA" 2>/dev/null
	eject "$MEDIA_DEV" 2>/dev/null
	sa_t0=$(date +%s) sa_try=1 sa_seen=""
	screen '\r\033[K'
	sa_ask_disc "$1" "$sa_try"
	while [ $(($(date +%s) - sa_t0)) -lt "$SA_DISC_TIMEOUT" ]; do
		sleep 2
		mount -r -t iso9660 "$MEDIA_DEV" "$MEDIA" 2>/dev/null || { sa_seen="" && continue; }
		sa_read_disc
		if [ "$sa_m" = bootmedia-disc ] && [ "$sa_set" = "$SA_SET" ] && [ "$sa_n" = "$1" ]; then
			rm -f "$TS_DIR/disc.wait"
			step_ok "Disc $1 of $SA_DISCS" "inserted"
			say "{\"event\":\"disc\",\"result\":\"ok\",\"disc\":$1,\"of\":$SA_DISCS}"
			ts_log "disc $1 of $SA_DISCS inserted"
			return 0
		fi
		umount "$MEDIA" 2>/dev/null
		# The same wrong disc, still in a drive that would not open: said once.
		[ "$sa_seen" = "$sa_m $sa_set $sa_n" ] && continue
		sa_seen="$sa_m $sa_set $sa_n"
		if [ "$sa_m" = bootmedia-disc ] && [ "$sa_set" = "$SA_SET" ]; then
			sa_what="disc $sa_n of this set"
		elif [ "$sa_m" = bootmedia-disc ]; then
			sa_what="disc $sa_n of $sa_of of another set ($sa_set)"
		else
			sa_what="no disc of a bootmedia set"
		fi
		say "{\"event\":\"disc\",\"result\":\"wrong\",\"want\":$1,\"got\":$(json_str "$sa_what")}"
		ts_log "disc $1 asked for, $sa_what inserted"
		eject "$MEDIA_DEV" 2>/dev/null
		sa_try=$((sa_try + 1))
		screen_warn "That is $sa_what."
		sa_ask_disc "$1" "$sa_try"
	done
	rm -f "$TS_DIR/disc.wait"
	echo "disc $1 of $SA_DISCS was not inserted within $SA_DISC_TIMEOUT s" >"$TS_DIR/media.err"
	return 1
}

# sa_cat ID PATH_B64: the stored file to stdout, its pieces joined in order (C lines by n), each
# from its disc. A missing piece or disc: false, the reason in TS_DIR/media.err.
sa_cat() {
	awk -F "$TS_TAB" -v id="$1" -v p="$2" '$1 == "C" && $2 == id && $7 == p { print $3, $4, $8 }' "$SA_RUN/content.txt" |
		sort -n >"$TS_DIR/pieces"
	[ "$(wc -l <"$TS_DIR/pieces")" = "$SA_F_PIECES" ] || { echo "the index lists $(wc -l <"$TS_DIR/pieces") of $SA_F_PIECES pieces" >"$TS_DIR/media.err" && return 1; }
	while read -r sa_pn sa_disc sa_mp; do
		sa_need_disc "$sa_disc" || return 1
		sa_rel=$(ts_b64 "$sa_mp")
		case "/$sa_rel/" in */../* | */./* | //*) echo "piece $sa_pn: a path outside the media" >"$TS_DIR/media.err" && return 1 ;; esac
		cat "$MEDIA/$sa_rel" 2>/dev/null || { echo "piece $sa_pn ($sa_rel) could not be read from disc $sa_disc" >"$TS_DIR/media.err" && return 1; }
	done <"$TS_DIR/pieces"
}

# sa_stream ID PATH_B64: the file's plaintext to stdout, and its stored bytes to the hash's FIFO
# (TS_DIR/hash.fifo): their sha256 (unencrypted) or HMAC (encrypted) is what the caller checks.
sa_stream() {
	rm -f "$TS_DIR/media.err"
	if [ "$SA_F_CIPHER" = none ]; then
		sa_cat "$1" "$2" | "$(ts_tool tee)" "$TS_DIR/hash.fifo"
	else
		sa_cat "$1" "$2" | "$(ts_tool tee)" "$TS_DIR/hash.fifo" | openssl enc -d -aes-256-ctr -K "$(sa_key enc)" -iv "$SA_F_IV"
	fi
	[ ! -s "$TS_DIR/media.err" ]
}

# sa_check_command: the command that hashes the stored bytes (stdin) as the index's F line does.
sa_check_command() {
	if [ "$SA_F_CIPHER" = none ]; then echo "openssl dgst -sha256 -r"; else echo "openssl dgst -sha256 -mac HMAC -macopt hexkey:$(sa_key mac) -r"; fi
}
# sa_check_value: what that hash must be (the plaintext sha256, or the tag).
sa_check_value() { if [ "$SA_F_CIPHER" = none ]; then echo "$SA_F_SHA"; else echo "$SA_F_TAG"; fi; }

# sa_copy ID PATH_B64 OUT: a (small) package file off the media into OUT, its tag checked when
# encrypted; the caller checks the size and the plaintext's sha256 as for a download (for an
# unencrypted file that is the whole check: no hash branch).
sa_copy() {
	sa_file "$1" "$2" || { echo "the index lists no such file" >"$TS_DIR/media.err" && return 1; }
	if [ "$SA_F_CIPHER" = none ]; then
		rm -f "$TS_DIR/media.err"
		sa_cat "$1" "$2" >"$3"
		return
	fi
	rm -f "$TS_DIR/hash.fifo" "$TS_DIR/check"
	mkfifo "$TS_DIR/hash.fifo"
	$(sa_check_command) <"$TS_DIR/hash.fifo" >"$TS_DIR/check" &
	sa_stream "$1" "$2" >"$3"
	sa_rc=$?
	wait
	rm -f "$TS_DIR/hash.fifo"
	[ "$sa_rc" -eq 0 ] || return 1
	[ "$(cut -d ' ' -f 1 "$TS_DIR/check")" = "$(sa_check_value)" ] || { echo "the stored bytes do not match the index (altered media)" >"$TS_DIR/media.err" && return 1; }
}

# sa_default_name: the computer's name when the media's variables give none: MININT- and 7
# characters, as Windows PE names a machine it knows nothing about.
sa_default_name() { echo "MININT-$(openssl rand -hex 4 | cut -c1-7 | tr a-f A-F)"; }

# sa_events: the queued status events into the run's event list (no management point to post
# them to); they reach the media at each step's end (sa_save_log).
sa_events() {
	cat "$TS_QUEUE" >>"$TS_DIR/events.jsonl" 2>/dev/null
	: >"$TS_QUEUE"
}

# sa_save_log: on USB media, the run's events and log into the media's log folder
# (logs/<date>-<computer>-<run>/), the file system mounted writable only while it is written.
# False when the media cannot be written (a CD, or a write-protected drive).
sa_save_log() {
	[ "$MEDIA_FS" = vfat ] || return 1
	[ -n "${SA_LOG_RUN-}" ] || SA_LOG_RUN=$SA_LOG_DIR/$(date -u +%Y%m%dT%H%M%SZ)-$(printf '%s' "$TS_COMPUTER" | tr -c 'A-Za-z0-9_-' _)-$TS_RUN
	mount -o remount,rw "$MEDIA" 2>/dev/null || return 1
	mkdir -p "$MEDIA/$SA_LOG_RUN" && cp "$TS_DIR/events.jsonl" "$MEDIA/$SA_LOG_RUN/events.jsonl" && cp "$TS_LOG" "$MEDIA/$SA_LOG_RUN/engine.log"
	sa_rc=$?
	sync
	mount -o remount,ro "$MEDIA" 2>/dev/null
	return $sa_rc
}

# sa_finish_log: the end of a run: the log on USB media, or its last lines on the screen.
sa_finish_log() {
	sa_events
	if sa_save_log; then
		step_ok "Log on the media" "$SA_LOG_RUN"
		say "{\"event\":\"standalone-log\",\"path\":$(json_str "$SA_LOG_RUN"),\"events\":$(wc -l <"$TS_DIR/events.jsonl")}"
	else
		if [ "$MEDIA_FS" = vfat ]; then
			step_failed "Log on the media" "the USB drive could not be written"
		else
			step_skipped "Log on the media" "a CD/DVD is read-only: the log's end is below"
		fi
		tail -n 12 "$TS_LOG" | cut -c 1-76 | while IFS= read -r sa_l; do screen_note "$sa_l"; done
		say "{\"event\":\"standalone-log\",\"path\":null,\"events\":$(wc -l <"$TS_DIR/events.jsonl")}"
	fi
}
