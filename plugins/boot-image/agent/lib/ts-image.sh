# shellcheck shell=sh
# Sourced by /init. The apply-image step of the task-sequence engine (docs/task-sequences.md),
# with lib/ts-disk.sh's disk choice. An image streams from the distribution point to the disk
# and is never held in memory: HTTP(S) (busybox nc, openssl s_client) → one tee per connection
# (coreutils' tee and wc, which read 64 KiB where busybox's take 8: to the decompressor, to the
# sha256 of the stored bytes on a FIFO branch, to the connection's byte count on another) →
# decompressor (zstd, xz from /usr/bin; gunzip) writing the disk itself (a dd between them
# cost a quarter more time in the guest: docs/testbed.md, "Performance of deploy cases"), or
# dd in 4 MiB blocks with O_DIRECT for an uncompressed image; a dropped connection resumes
# with Range from the byte count reached. On stand-alone media the stored bytes come off the
# media instead (lib/standalone.sh: pieces joined, decrypted, checked by their tag). A failure
# that left bytes on the disk wipes its start and its GPT backups, so a half-written OS never boots.
# On an emulated CPU every pipe wake-up costs a context switch, and nc and tee write a few
# KiB at a time: a reader that wakes and takes the CPU at
# each write makes the copy several times slower than the work. Two remedies while an image
# streams: the kernel's wake-up granularity raised (debugfs; refused, and skipped, under
# lockdown), and each stage at a lower priority than the one feeding it (nc 0, tee
# TS_NICE_TEE, the rest TS_NICE_SINK), which works everywhere: a writer fills the pipe before
# its reader runs.

# Seconds between progress reports (screen line, event, marker) while an image is written.
TS_PROGRESS_EVERY=5
# Progress events one apply-image may post (every TS_PROGRESS_EVERY s: over 2 hours).
TS_IMAGE_PROGRESS_POSTS=1500
# A connection that delivers nothing for this long is dropped and resumed.
TS_STALL_SECONDS=60
# Connections tried in a row without a byte before the download fails.
TS_IMAGE_TRIES=8
# What a wipe zeroes: the disk's first MiBs (MBR, GPT, BIOS boot code), and one MiB before each
# place a GPT backup may sit (the image's end, the disk's end).
TS_WIPE_MIB=4

# Niceness of the tee and of its readers (the hash, the count, the decompressor, dd).
TS_NICE_TEE=5
TS_NICE_SINK=19
# The wake-up granularity (ns) while an image streams (the kernel's default: 1 ms on one CPU),
# and where the scheduler's knobs are (the tests point it at a stand-in).
TS_WAKEUP_NS=20000000
TS_SCHED_DIR=/sys/kernel/debug/sched

TS_CR=$(printf '\r')

# ts_nice N: this (sub)shell, and what it starts from now on, run at nice N (never fails).
ts_nice() {
	read -r ts_self _ </proc/self/stat && renice "$1" -p "$ts_self" >/dev/null 2>&1
	return 0
}

# ts_wipe DISK DISKBYTES IMAGEBYTES: zeroes what makes a disk boot: its first MiBs and the MiB
# before the image's end and the disk's end (where a GPT backup header may be).
ts_wipe() {
	dd if=/dev/zero of="$TS_DEV/$1" bs=1048576 count="$TS_WIPE_MIB" conv=notrunc,fsync 2>/dev/null
	for ts_end in "$3" "$2"; do
		[ "$ts_end" -gt $((TS_WIPE_MIB * 1048576)) ] || continue
		dd if=/dev/zero of="$TS_DEV/$1" bs=1048576 count=1 seek=$((ts_end - 1048576)) oflag=seek_bytes conv=notrunc,fsync 2>/dev/null
	done
	blockdev --rereadpt "$TS_DEV/$1" 2>/dev/null
	ts_log "wiped /dev/$1: its first $TS_WIPE_MIB MiB and the MiB before byte $3 and $2"
}

# ts_wakeups batch|restore: raises the wake-up granularity for the stream (TS_SCHED_WAS keeps
# the kernel's value), or puts the kernel's value back. A locked-down kernel refuses debugfs:
# nothing changes then.
ts_wakeups() {
	if [ "$1" = batch ]; then
		[ -e "$TS_SCHED_DIR" ] || mount -t debugfs debugfs "${TS_SCHED_DIR%/sched}" 2>/dev/null
		TS_SCHED_WAS=$(cat "$TS_SCHED_DIR/wakeup_granularity_ns" 2>/dev/null)
		[ -n "$TS_SCHED_WAS" ] && { echo "$TS_WAKEUP_NS" >"$TS_SCHED_DIR/wakeup_granularity_ns"; } 2>/dev/null
	elif [ -n "${TS_SCHED_WAS-}" ]; then
		{ echo "$TS_SCHED_WAS" >"$TS_SCHED_DIR/wakeup_granularity_ns"; } 2>/dev/null
		TS_SCHED_WAS=""
	fi
	return 0
}

# ts_url_host URL: sets TS_SCHEME TS_HOST TS_PORT TS_PATH.
ts_url_parts() {
	TS_SCHEME=${1%%://*}
	ts_rest=${1#*://}
	ts_hp=${ts_rest%%/*}
	TS_PATH=/${ts_rest#*/}
	[ "$ts_rest" = "$ts_hp" ] && TS_PATH=/
	TS_HOST=${ts_hp%:*} TS_PORT=${ts_hp##*:}
	[ "$TS_PORT" = "$ts_hp" ] && { [ "$TS_SCHEME" = https ] && TS_PORT=443 || TS_PORT=80; }
}

# ts_http_body FROM: reads an HTTP answer on stdin, writes its status to TS_DIR/http.status and,
# when it is the range asked for (206 from byte FROM, or 200 when FROM is 0), copies the body
# to stdout and to TS_DIR/hash.fifo (the sha256, kept open across connections by the
# download), counting its bytes into TS_DIR/http.bytes. `read` takes a byte at a time, so the
# body starts exactly after the blank line.
ts_http_body() {
	: >"$TS_DIR/http.bytes"
	IFS=' ' read -r ts_proto ts_code ts_rest || { echo "0 no answer" >"$TS_DIR/http.status" && return 1; }
	ts_range=""
	while IFS= read -r ts_h; do
		ts_h=${ts_h%"$TS_CR"}
		[ -z "$ts_h" ] && break
		case $ts_h in [Cc]ontent-[Rr]ange:*) ts_range=${ts_h#*:} ;; esac
	done
	echo "$ts_code${ts_range:+ $ts_range}" >"$TS_DIR/http.status"
	case "$ts_code" in
		206) case "$ts_range" in *"bytes $1-"*) ;; *) return 1 ;; esac ;;
		200) [ "$1" = 0 ] || return 1 ;;
		*) return 1 ;;
	esac
	rm -f "$TS_DIR/count.fifo" && mkfifo "$TS_DIR/count.fifo"
	ts_nice "$TS_NICE_TEE"
	(
		ts_nice "$TS_NICE_SINK"
		exec "$(ts_tool wc)" -c <"$TS_DIR/count.fifo" >"$TS_DIR/http.bytes"
	) &
	"$(ts_tool tee)" "$TS_DIR/hash.fifo" "$TS_DIR/count.fifo"
	wait
}

# ts_get_range URL FROM TO: one GET of bytes FROM..TO, the body to stdout. http through busybox
# nc, https through openssl s_client (verified against BM_DP_CA when set: the sha256 protects the
# bytes either way). The request's FIFO stays open until the answer ended (busybox nc quits at
# the end of its input). The connection's pid is in TS_DIR/conn.pid for the stall watchdog.
ts_get_range() {
	ts_url_parts "$1"
	rm -f "$TS_DIR/req.fifo" "$TS_DIR/resp.fifo" "$TS_DIR/http.status"
	mkfifo "$TS_DIR/req.fifo" "$TS_DIR/resp.fifo"
	if [ "$TS_SCHEME" = https ]; then
		openssl s_client -quiet -connect "$TS_HOST:$TS_PORT" -servername "$TS_HOST" \
			${BM_DP_CA:+-CAfile "$BM_DP_CA" -verify_return_error} <"$TS_DIR/req.fifo" >"$TS_DIR/resp.fifo" 2>/dev/null &
	else
		nc "$TS_HOST" "$TS_PORT" <"$TS_DIR/req.fifo" >"$TS_DIR/resp.fifo" 2>/dev/null &
	fi
	echo "$!" >"$TS_DIR/conn.pid"
	ts_http_body "$2" <"$TS_DIR/resp.fifo" &
	ts_body_pid=$!
	ts_opened=""
	while [ -z "$ts_opened" ]; do
		{
			ts_opened=1
			printf 'GET %s HTTP/1.1\r\nHost: %s\r\nRange: bytes=%s-%s\r\nUser-Agent: bootmedia-agent\r\nConnection: close\r\n\r\n' \
				"$TS_PATH" "$TS_HOST" "$2" "$3" >&5 2>/dev/null
			wait "$ts_body_pid"
			# The answer was not the range asked for: the connection is not read, end it.
			kill "$(cat "$TS_DIR/conn.pid")" 2>/dev/null
		} 5>"$TS_DIR/req.fifo" 2>/dev/null
	done
	wait
	rm -f "$TS_DIR/req.fifo" "$TS_DIR/resp.fifo"
}

# ts_download ID PATH SIZE: the stored image from the package's locations to stdout, resumed
# with Range after a dropped connection from the byte reached. Leaves the bytes delivered in
# TS_DIR/got, the connections made in TS_DIR/connections; false when it did not get them all.
ts_download() {
	ts_got=0 ts_conns=0 ts_dry=0
	ts_url_path=$(printf '%s' "$2" | sed -e 's/%/%25/g' -e 's/ /%20/g' -e 's/#/%23/g' -e 's/?/%3F/g')
	awk -v id="$1" '$1 == id { print $2 }' "$TS_DIR/locations" >"$TS_DIR/image-locations"
	[ -s "$TS_DIR/image-locations" ] || return 1
	while [ "$ts_got" -lt "$3" ] && [ "$ts_dry" -lt "$TS_IMAGE_TRIES" ]; do
		while read -r ts_base && [ "$ts_got" -lt "$3" ]; do
			ts_conns=$((ts_conns + 1))
			ts_get_range "$ts_base$ts_url_path" "$ts_got" $(($3 - 1)) </dev/null
			ts_n=$(cat "$TS_DIR/http.bytes" 2>/dev/null)
			echo "connection $ts_conns to $ts_base from byte $ts_got: $(cat "$TS_DIR/http.status" 2>/dev/null), ${ts_n:-0} bytes" >>"$TS_DIR/download.log"
			case $ts_n in '' | *[!0-9]*) ts_n=0 ;; esac
			ts_got=$((ts_got + ts_n))
			echo "$ts_got" >"$TS_DIR/got"
			echo "$ts_conns" >"$TS_DIR/connections"
			if [ "$ts_n" -gt 0 ]; then ts_dry=0; else ts_dry=$((ts_dry + 1)) && sleep 1; fi
		done <"$TS_DIR/image-locations"
	done
	[ "$ts_got" -eq "$3" ]
}

# ts_sample PID: one look at the image's writer (PID, dd: the disk its stdout) for the progress
# loop, in one process: "UPTIME_CS WRITTEN USED" — /proc/uptime in hundredths of a second,
# its output's file position (empty once it ended), and the boot environment's memory in use
# in bytes (MemTotal - MemAvailable: what the page cache cannot give back).
ts_sample() {
	awk -v fd="/proc/$1/fdinfo/1" 'BEGIN {
		getline u <"/proc/uptime"; split(u, a, " ")
		p = ""; while ((getline l <fd) > 0) if (l ~ /^pos:/) { split(l, b, /[ \t]+/); p = b[2] }
		while ((getline l <"/proc/meminfo") > 0) { split(l, m, /[ \t]+/); if (m[1] == "MemTotal:") t = m[2]; else if (m[1] == "MemAvailable:") v = m[2] }
		printf "%d %s %.0f\n", a[1] * 100, p, (t - v) * 1024 }' 2>/dev/null
}
# ts_decomp_said: the decompressor's exit status and the last line it wrote to stderr (kept off
# the screen: it would cut into the progress line).
ts_decomp_said() {
	ts_err=$(tr -s '\r\n' '  ' <"$TS_DIR/decompress.err" 2>/dev/null | sed -e 's/^ *//' -e 's/ *$//' | tail -c 200)
	echo "$ts_comp exit $(cat "$TS_DIR/rc.decompress" 2>/dev/null)${ts_err:+: $ts_err}"
}
# ts_read_bytes PID: the bytes PID has read so far (the hash's: stored bytes received), empty
# when the kernel keeps no I/O accounting.
ts_read_bytes() { sed -n 's/^rchar:[[:space:]]*//p' "/proc/$1/io" 2>/dev/null; }

# ts_secs CS: hundredths of a second as seconds ("41.07").
ts_secs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

# ts_image_progress STEP WRITTEN TOTAL CS: the progress line on the screen, the marker (with
# the boot environment's peak memory so far, TS_MEM_PEAK), the event (at most
# TS_IMAGE_PROGRESS_POSTS) and the log line.
ts_image_progress() {
	ts_line=$(awk -v w="$2" -v t="$3" -v cs="$4" 'BEGIN {
		r = (cs > 0 ? w * 100 / cs : 0); l = (r > 0 ? int((t - w) / r) : -1)
		printf "%d / %d MiB, %.1f MiB/s, %s", w / 1048576, t / 1048576, r / 1048576, (l < 0 ? "time left unknown" : (l >= 60 ? sprintf("%d min %02d s left", l / 60, l % 60) : l " s left")) }')
	screen '\r    \033[36m%s\033[0m\033[K' "$ts_line"
	say "{\"event\":\"apply-progress\",\"step\":$1,\"written\":$2,\"total\":$3,\"seconds\":$(ts_secs "$4"),\"memPeak\":$TS_MEM_PEAK}"
	ts_log "step $1 progress: $ts_line"
	[ "$TS_IMAGE_POSTED" -lt "$TS_IMAGE_PROGRESS_POSTS" ] && ts_event "$1" progress "" "$ts_line"
	TS_IMAGE_POSTED=$((TS_IMAGE_POSTED + 1))
}

# ts_apply_image INDEX: the apply-image step.
ts_apply_image() {
	ts_pkg=$(ts_field "$1" b)
	set -- "$1" $(ts_image_line "$ts_pkg")
	[ $# -ge 8 ] || { ts_disk_fail image-unknown "the policy names no os image $ts_pkg"; return 1; }
	ts_comp=$2 ts_size=$3 ts_table=$5 ts_root=$6 ts_image=$(ts_b64 "$8")
	ts_stored=$(awk -v id="$ts_pkg" -v p="$8" '$1 == id && $4 == p { print $2, $3; exit }' "$TS_DIR/files")
	ts_sha=${ts_stored% *} ts_bytes=${ts_stored#* }
	[ -n "$ts_stored" ] || { ts_disk_fail image-unknown "package $ts_pkg lists no file $ts_image"; return 1; }
	# Stand-alone media: the image is read off the media (lib/standalone.sh), and what is checked
	# is the index's: the plaintext sha256, or, encrypted, the tag of the stored bytes.
	ts_media="" ts_check="openssl dgst -sha256 -r" ts_want=$ts_sha ts_what="sha256"
	if ts_on_media "$ts_pkg"; then
		sa_file "$ts_pkg" "$8" && [ "$SA_F_SIZE" = "$ts_bytes" ] && [ "$SA_F_SHA" = "$ts_sha" ] ||
			{ ts_disk_fail image-unknown "the media's index does not list $ts_image of $ts_pkg as the program does"; return 1; }
		ts_media=1 ts_check=$(sa_check_command) ts_want=$(sa_check_value)
		[ "$SA_F_CIPHER" = none ] || ts_what="tag"
	fi
	case $ts_comp in
		zstd) ts_decomp="$(ts_tool zstd) -dc" ;;
		xz) ts_decomp="$(ts_tool xz) -dc" ;;
		gzip) ts_decomp="gunzip -c" ;;
		none) ts_decomp="" ;;
		*) ts_disk_fail image-unknown "compression $ts_comp"; return 1 ;;
	esac
	if [ -z "${TS_DISK-}" ]; then
		ts_pick_disk "$ts_size" "" "" || return 1
		ts_set OSDTargetDisk "/dev/$TS_DISK"
	fi
	[ "$TS_DISK_BYTES" -ge "$ts_size" ] ||
		{ ts_disk_fail disk-too-small "/dev/$TS_DISK holds $(ts_size_words "$TS_DISK_BYTES"), the image $(ts_size_words "$ts_size")"; return 1; }
	# An uncompressed image goes through dd, with O_DIRECT when every write is a whole number of
	# the disk's logical blocks: dd writes 4 MiB blocks, so the image's size must be one too
	# (else, and for a stand-in file, the page cache).
	ts_direct=""
	if [ -z "$ts_decomp" ]; then
		ts_lbs=$(cat "$TS_SYS_BLOCK/$TS_DISK/queue/logical_block_size" 2>/dev/null)
		case $ts_lbs in '' | *[!0-9]* | 0) ts_lbs=512 ;; esac
		[ -b "$TS_DEV/$TS_DISK" ] && [ $((ts_size % ts_lbs)) -eq 0 ] && ts_direct=oflag=direct
	fi
	screen_note "$ts_image ($(ts_size_words "$ts_bytes"), $ts_comp) to /dev/$TS_DISK ($(ts_size_words "$ts_size"))"
	ts_log "apply-image: $ts_pkg $ts_image, $ts_bytes bytes stored ($ts_comp), $ts_size bytes, to /dev/$TS_DISK${ts_direct:+ (O_DIRECT)}"
	rm -f "$TS_DIR"/stream.fifo "$TS_DIR"/hash.fifo "$TS_DIR"/image.sha "$TS_DIR"/rc.* "$TS_DIR"/got "$TS_DIR"/download.log "$TS_DIR"/*.err "$TS_DIR"/writer.pid "$TS_DIR"/conn.pid
	mkfifo "$TS_DIR/stream.fifo" "$TS_DIR/hash.fifo"
	ts_wakeups batch
	if [ -n "$TS_SCHED_WAS" ]; then
		ts_log "apply-image: wake-up granularity $TS_SCHED_WAS -> $TS_WAKEUP_NS ns"
	else
		ts_log "apply-image: wake-up granularity unchanged (no debugfs: locked down?)"
	fi
	ts_s=$(ts_sample $$)
	ts_t0=${ts_s%% *} TS_MEM_PEAK=${ts_s##* }
	# The pipeline: each connection's tee (ts_http_body) → stream.fifo → the decompressor, which
	# writes the disk itself (through the page cache, flushed and checked by a dd fsync at the
	# end); the same bytes → hash.fifo → openssl's sha256. An image stored uncompressed goes to
	# the disk through dd in 4 MiB blocks (O_DIRECT when it may). The decompressor's exit status
	# lands in rc.decompress (dd's is the writer's own); the download holds hash.fifo open (fd 6)
	# so the hash sees one stream across connections. writer.pid: the process writing the disk
	# (its output's position is the progress).
	# A decompressor that stops early (bytes it refuses) leaves the rest of the stream to cat:
	# every stored byte still reaches the hash, so changed bytes read as a hash mismatch, never
	# as a broken download (the tee would die writing to a closed pipe, and the download with it).
	(
		ts_nice "$TS_NICE_SINK"
		# shellcheck disable=SC2086 # a command and its options, no spaces inside one
		exec $ts_check <"$TS_DIR/hash.fifo" >"$TS_DIR/image.sha"
	) &
	ts_hash=$!
	if [ -n "$ts_decomp" ]; then
		(
			ts_nice "$TS_NICE_SINK"
			exec 3<"$TS_DIR/stream.fifo"
			# 1<>: the disk opened for writing without truncation (a stand-in file keeps its size).
			$ts_decomp <&3 1<>"$TS_DEV/$TS_DISK" 2>"$TS_DIR/decompress.err" &
			echo "$!" >"$TS_DIR/writer.pid"
			wait "$!"
			echo "$?" >"$TS_DIR/rc.decompress"
			exec cat <&3 >/dev/null
		) &
	else
		echo 0 >"$TS_DIR/rc.decompress"
		(
			ts_nice "$TS_NICE_SINK"
			exec dd of="$TS_DEV/$TS_DISK" bs=4M iflag=fullblock $ts_direct conv=notrunc,fsync <"$TS_DIR/stream.fifo" 2>"$TS_DIR/dd.err"
		) &
		echo "$!" >"$TS_DIR/writer.pid"
	fi
	ts_writer=$!
	{
		if [ -n "$ts_media" ]; then sa_stream "$ts_pkg" "$8"; else ts_download "$ts_pkg" "$ts_image" "$ts_bytes"; fi
		echo "$?" >"$TS_DIR/rc.download"
	} >"$TS_DIR/stream.fifo" 6>"$TS_DIR/hash.fifo" &
	ts_last=$ts_t0 TS_IMAGE_POSTED=0 ts_pos=0 ts_seen=$ts_t0 ts_hashed=0 ts_refused=""
	while kill -0 "$ts_writer" 2>/dev/null; do
		sleep 1
		ts_s=$(ts_sample "$(cat "$TS_DIR/writer.pid" 2>/dev/null)")
		ts_now=${ts_s%% *} ts_mem=${ts_s##* } ts_w=${ts_s#* }
		ts_w=${ts_w% *}
		case $ts_mem in '' | *[!0-9]*) ;; *) [ "$ts_mem" -gt "$TS_MEM_PEAK" ] && TS_MEM_PEAK=$ts_mem ;; esac
		case $ts_now in '' | *[!0-9]*) continue ;; esac
		# No position: the writer has not started or has ended (a refusal: the rest drains).
		case $ts_w in '' | *[!0-9]*) ts_w=$ts_pos ;; esac
		[ "$ts_w" != "$ts_pos" ] && ts_pos=$ts_w ts_seen=$ts_now
		# Bytes still arriving count too: after a refusal nothing is written, the hash still reads.
		ts_h=$(ts_read_bytes "$ts_hash")
		[ -n "$ts_h" ] && [ "$ts_h" != "$ts_hashed" ] && ts_hashed=$ts_h ts_seen=$ts_now
		if [ -z "$ts_refused" ] && [ -s "$TS_DIR/rc.decompress" ] && [ "$(cat "$TS_DIR/rc.decompress")" != 0 ]; then
			ts_refused=1
			ts_log "apply-image: $ts_comp stopped at $ts_w bytes written ($(ts_decomp_said)); the rest of the stored bytes is read for the sha256 check"
		fi
		# (Stand-alone media have no connection: a wait for a disc is no stall.)
		if [ -z "$ts_media" ] && [ $((ts_now - ts_seen)) -ge $((TS_STALL_SECONDS * 100)) ]; then
			# Nothing written for a minute: the connection is dropped, the download resumes.
			kill "$(cat "$TS_DIR/conn.pid" 2>/dev/null)" 2>/dev/null
			ts_log "apply-image: nothing for $TS_STALL_SECONDS s, connection dropped"
			ts_seen=$ts_now
		fi
		# No progress line while a disc is asked for: it would write over the question.
		if [ $((ts_now - ts_last)) -ge $((TS_PROGRESS_EVERY * 100)) ] && [ ! -e "$TS_DIR/disc.wait" ]; then
			ts_image_progress "$1" "$ts_w" "$ts_size" $((ts_now - ts_t0))
			ts_last=$ts_now
		fi
	done
	wait "$ts_writer"
	ts_dd_rc=$?
	wait
	# A decompressor writes through the page cache: flushed here, a write error reported by
	# dd's fsync of the disk.
	if [ -n "$ts_decomp" ]; then
		dd if=/dev/null of="$TS_DEV/$TS_DISK" conv=notrunc,fsync 2>"$TS_DIR/dd.err"
		ts_dd_rc=$?
	fi
	ts_wakeups restore
	screen '\r\033[K'
	sed 's/^/    /' "$TS_DIR/download.log" >>"$TS_LOG" 2>/dev/null
	ts_conns=$(cat "$TS_DIR/connections" 2>/dev/null)
	ts_got=$(cat "$TS_DIR/got" 2>/dev/null)
	ts_have=$(cut -d ' ' -f 1 "$TS_DIR/image.sha" 2>/dev/null)
	[ -z "$ts_refused" ] && [ "$(cat "$TS_DIR/rc.decompress" 2>/dev/null)" != 0 ] && ts_log "apply-image: $ts_comp stopped ($(ts_decomp_said))"
	if [ "$(cat "$TS_DIR/rc.download" 2>/dev/null)" != 0 ]; then
		if [ -n "$ts_media" ]; then
			ts_wipe "$TS_DISK" "$TS_DISK_BYTES" "$ts_size"
			ts_disk_fail media-read-failed "$ts_image: $(cat "$TS_DIR/media.err" 2>/dev/null || echo "the media could not be read"); the disk was wiped"
		else
			[ "${ts_got:-0}" -gt 0 ] && ts_wipe "$TS_DISK" "$TS_DISK_BYTES" "$ts_size"
			ts_disk_fail image-download-failed "$ts_image: ${ts_got:-0} of $ts_bytes bytes from ${ts_conns:-0} connections ($(tail -n 1 "$TS_DIR/download.log" 2>/dev/null))"
		fi
		return 1
	fi
	if [ "$ts_have" != "$ts_want" ]; then
		ts_wipe "$TS_DISK" "$TS_DISK_BYTES" "$ts_size"
		if [ "$ts_what" = tag ]; then
			ts_disk_fail image-hash-mismatch "$ts_image: the stored bytes' HMAC is not the index's tag (altered media); the disk was wiped"
		else
			ts_disk_fail image-hash-mismatch "$ts_image: sha256 $ts_have, the package says $ts_sha; the disk was wiped"
		fi
		return 1
	fi
	ts_rc=$(cat "$TS_DIR/rc.decompress" 2>/dev/null)
	if [ "$ts_rc" != 0 ] || [ "$ts_dd_rc" != 0 ]; then
		ts_wipe "$TS_DISK" "$TS_DISK_BYTES" "$ts_size"
		ts_disk_fail image-write-failed "$ts_image: $(ts_decomp_said), dd exit $ts_dd_rc ($(grep -v ' records ' "$TS_DIR/dd.err" 2>/dev/null | tail -n 1))"
		return 1
	fi
	sync
	ts_s=$(ts_sample $$)
	ts_cs=$((${ts_s%% *} - ts_t0))
	if [ "$ts_table" = gpt ]; then
		# The image's GPT backup sits at the image's end: moved to the disk's end.
		ts_out=$($(ts_tool sfdisk) --relocate gpt-bak-std "$TS_DEV/$TS_DISK" 2>&1) ||
			{ ts_disk_fail image-write-failed "sfdisk --relocate: $ts_out"; return 1; }
	fi
	blockdev --rereadpt "$TS_DEV/$TS_DISK" 2>/dev/null
	TS_IMAGE_ROOT=$ts_root TS_IMAGE_FIRMWARE=$7
	# The last progress marker: all written (and synced), the time the whole step took.
	say "{\"event\":\"apply-progress\",\"step\":$1,\"written\":$ts_size,\"total\":$ts_size,\"seconds\":$(ts_secs "$ts_cs"),\"memPeak\":$TS_MEM_PEAK}"
	ts_rate=$(awk -v b="$ts_size" -v cs="$ts_cs" 'BEGIN { printf "%.1f", (cs > 0 ? b * 100 / cs : b) / 1048576 }')
	if [ -n "$ts_media" ]; then
		ts_from="$ts_bytes bytes off the media$([ "$ts_what" = tag ] && echo ", decrypted"); $ts_what ok"
	else
		ts_from="$ts_got bytes in $ts_conns connection(s); sha256 ok"
	fi
	TS_MESSAGE="$(ts_mib "$ts_size") MiB to /dev/$TS_DISK in $(ts_secs "$ts_cs") s ($ts_rate MiB/s); $ts_from"
	ts_log "apply-image: $TS_MESSAGE; the boot environment used at most $(ts_mib "$TS_MEM_PEAK") MiB"
}
