# shellcheck shell=sh
# Sourced by /init. The disk steps of the task-sequence engine (lib/ts.sh; docs/task-sequences.md):
# select-disk, apply-image, write-files and restart. busybox sh, with zstd, xz, sfdisk and
# efibootmgr from the boot image (/usr/bin). An image streams from the distribution point to the
# disk and is never held in memory: HTTP(S) → byte count → sha256 of the stored bytes (a FIFO
# branch) → decompressor → dd in large blocks; a dropped connection resumes with Range from the
# byte count reached. A failure that leaves bytes on the disk wipes its start and its GPT
# backups, so a half-written OS never boots. A failure carries a code (TS_CODE): the event's
# message starts with it, the error marker and the screen name it.

# The installed root is mounted here by write-files and restart.
TS_TARGET=/tmp/bootmedia-target
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
# The handoff folder of the installed root (deploy contract §4).
TS_HANDOFF=/var/lib/bootmedia

TS_CR=$(printf '\r')

# ts_disk_fail CODE MESSAGE: a coded failure of the running step.
ts_disk_fail() {
	TS_CODE=$1 TS_MESSAGE="$1: $2"
	return 1
}

# ts_tool NAME: the full program from the boot image when there is one, else busybox's applet.
ts_tool() {
	if [ -x "/usr/bin/$1" ]; then echo "/usr/bin/$1"; else echo "$1"; fi
}

# ts_boot_disk: the disk the boot medium is on (sr0, sda for /dev/sda1), never a target.
ts_boot_disk() {
	ts_bd=${MEDIA_DEV#/dev/}
	[ -n "$ts_bd" ] || return 0
	if [ -e "/sys/class/block/$ts_bd/partition" ]; then
		ts_bd=$(readlink -f "/sys/class/block/$ts_bd/..")
		ts_bd=${ts_bd##*/}
	fi
	echo "$ts_bd"
}

# ts_disk_ids NAME: the disk's serial and WWID, one a line, spaces folded (what `serial` matches).
ts_disk_ids() {
	for ts_f in device/serial serial device/wwid wwid; do
		[ -r "$TS_SYS_BLOCK/$1/$ts_f" ] && tr -s ' \t' '  ' <"$TS_SYS_BLOCK/$1/$ts_f" | sed -e 's/^ *//' -e 's/ *$//' | grep .
	done
	return 0
}

# ts_disks: the disks a step may write, one line each: "name bytes removable", in /sys/block
# order. Loop, RAM, optical, device-mapper and md devices and the boot medium's disk are left out.
TS_SYS_BLOCK=/sys/block
# Where the disks' device nodes are, and the UEFI firmware's folder (tests point them at stand-ins).
TS_DEV=/dev
TS_EFI_DIR=/sys/firmware/efi
ts_disks() {
	ts_boot=$(ts_boot_disk)
	for ts_d in "$TS_SYS_BLOCK"/*; do
		ts_n=${ts_d##*/}
		case $ts_n in loop* | ram* | sr* | zram* | dm-* | md* | fd* | nbd* | '*') continue ;; esac
		[ "$ts_n" = "$ts_boot" ] && continue
		ts_sectors=$(cat "$ts_d/size" 2>/dev/null)
		case $ts_sectors in '' | *[!0-9]* | 0) continue ;; esac
		echo "$ts_n $((ts_sectors * 512)) $(cat "$ts_d/removable" 2>/dev/null || echo 0)"
	done
}

# ts_mib BYTES: whole MiB, for people.
ts_mib() { echo $(($1 / 1048576)); }
# ts_size_words BYTES: "8.0 GiB" / "512 MiB".
ts_size_words() {
	if [ "$1" -ge 1073741824 ]; then
		awk -v b="$1" 'BEGIN { printf "%.1f GiB", b / 1073741824 }'
	else
		echo "$(ts_mib "$1") MiB"
	fi
}

# ts_image_line ID: the os image's I line fields: compression size sha256 table root firmware image.
ts_image_line() {
	[ -f "$TS_DIR/images" ] && awk -v id="$1" '$1 == id { $1 = ""; sub(/^ /, ""); print; exit }' "$TS_DIR/images"
}

# ts_next_image_size INDEX: the uncompressed size of the image of the first apply-image after INDEX.
ts_next_image_size() {
	ts_j=$(($1 + 1))
	while [ "$ts_j" -le "$TS_M" ]; do
		if [ "$(ts_field "$ts_j" t)" = apply-image ]; then
			set -- $(ts_image_line "$(ts_field "$ts_j" b)")
			echo "${2-}"
			return 0
		fi
		ts_j=$((ts_j + 1))
	done
}

# ts_pick_disk MINSIZE PATH SERIAL: TS_DISK (name) and TS_DISK_BYTES of the first disk that fits,
# or a coded failure (no-disk, disk-too-small). Without PATH or SERIAL only non-removable disks.
ts_pick_disk() {
	ts_min=${1:-1} ts_want=${2#/dev/} ts_serial=$3 TS_DISK="" ts_small=""
	ts_disks >"$TS_DIR/disks"
	while read -r ts_n ts_bytes ts_rm; do
		if [ -n "$ts_want" ]; then
			[ "$ts_n" = "$ts_want" ] || continue
		elif [ -n "$ts_serial" ]; then
			ts_disk_ids "$ts_n" | grep -qxF "$ts_serial" || ts_disk_ids "$ts_n" | awk '{ print $NF }' | grep -qxF "$ts_serial" || continue
		else
			[ "$ts_rm" = 1 ] && continue
		fi
		if [ "$ts_bytes" -lt "$ts_min" ]; then
			ts_small="$ts_small /dev/$ts_n ($(ts_size_words "$ts_bytes"))"
			continue
		fi
		TS_DISK=$ts_n TS_DISK_BYTES=$ts_bytes
		return 0
	done <"$TS_DIR/disks"
	ts_what="a non-removable disk"
	[ -n "$ts_serial" ] && ts_what="a disk with serial $ts_serial"
	[ -n "$ts_want" ] && ts_what="the disk /dev/$ts_want"
	if [ -n "$ts_small" ]; then
		ts_disk_fail disk-too-small "$ts_what of at least $(ts_size_words "$ts_min") is needed; too small:$ts_small"
		return 1
	fi
	ts_disk_fail no-disk "no $ts_what was found (the boot medium is never one)"
}

# ts_select_disk INDEX: the select-disk step: OSDTargetDisk, and the disk named on the screen.
ts_select_disk() {
	ts_min=$(ts_field "$1" to)
	[ "$ts_min" = - ] && ts_min=$(ts_next_image_size "$1")
	ts_pick_disk "${ts_min:-1}" "$(ts_b64 "$(ts_field "$1" a)")" "$(ts_b64 "$(ts_field "$1" b)")" || return 1
	ts_set OSDTargetDisk "/dev/$TS_DISK"
	ts_model=$(tr -s ' ' <"$TS_SYS_BLOCK/$TS_DISK/device/model" 2>/dev/null | sed 's/ *$//')
	ts_sn=$(ts_disk_ids "$TS_DISK" | head -n 1)
	TS_MESSAGE="/dev/$TS_DISK, $(ts_size_words "$TS_DISK_BYTES")${ts_model:+, $ts_model}${ts_sn:+, serial $ts_sn}"
	screen_note "Disk: $TS_MESSAGE"
	ts_log "select-disk: $TS_MESSAGE"
}

# ts_partition DISK N: partition N's device (vda3, nvme0n1p3, mmcblk0p3).
ts_partition() {
	case $1 in *[0-9]) echo "$TS_DEV/${1}p$2" ;; *) echo "$TS_DEV/$1$2" ;; esac
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
# to stdout, counting its bytes into TS_DIR/http.bytes. `read` takes a byte at a time, so the
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
	wc -c <"$TS_DIR/count.fifo" >"$TS_DIR/http.bytes" &
	tee "$TS_DIR/count.fifo"
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

# ts_written PID: the bytes the disk-writing dd (PID) has written (its output's file position).
ts_written() { sed -n 's/^pos:[[:space:]]*//p' "/proc/$1/fdinfo/1" 2>/dev/null; }

# ts_image_progress STEP WRITTEN TOTAL SECONDS: the progress line on the screen, the marker,
# the event (at most TS_IMAGE_PROGRESS_POSTS) and the log line.
ts_image_progress() {
	ts_rate=0 ts_left=""
	[ "$4" -gt 0 ] && ts_rate=$(($2 / $4))
	[ "$ts_rate" -gt 0 ] && ts_left=$((($3 - $2) / ts_rate))
	ts_line=$(awk -v w="$2" -v t="$3" -v r="$ts_rate" -v l="$ts_left" 'BEGIN {
		printf "%d / %d MiB, %.1f MiB/s, %s", w / 1048576, t / 1048576, r / 1048576, (l == "" ? "time left unknown" : (l >= 60 ? sprintf("%d min %02d s left", l / 60, l % 60) : l " s left")) }')
	screen '\r    \033[36m%s\033[0m\033[K' "$ts_line"
	say "{\"event\":\"apply-progress\",\"step\":$1,\"written\":$2,\"total\":$3,\"seconds\":$4}"
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
	case $ts_comp in
		zstd) ts_decomp="$(ts_tool zstd) -dc" ;;
		xz) ts_decomp="$(ts_tool xz) -dc" ;;
		gzip) ts_decomp="gunzip -c" ;;
		none) ts_decomp=cat ;;
		*) ts_disk_fail image-unknown "compression $ts_comp"; return 1 ;;
	esac
	if [ -z "${TS_DISK-}" ]; then
		ts_pick_disk "$ts_size" "" "" || return 1
		ts_set OSDTargetDisk "/dev/$TS_DISK"
	fi
	[ "$TS_DISK_BYTES" -ge "$ts_size" ] ||
		{ ts_disk_fail disk-too-small "/dev/$TS_DISK holds $(ts_size_words "$TS_DISK_BYTES"), the image $(ts_size_words "$ts_size")"; return 1; }
	screen_note "$ts_image ($(ts_size_words "$ts_bytes"), $ts_comp) to /dev/$TS_DISK ($(ts_size_words "$ts_size"))"
	ts_log "apply-image: $ts_pkg $ts_image, $ts_bytes bytes stored ($ts_comp), $ts_size bytes, to /dev/$TS_DISK"
	rm -f "$TS_DIR"/stream.fifo "$TS_DIR"/hash.fifo "$TS_DIR"/plain.fifo "$TS_DIR"/image.sha "$TS_DIR"/rc.* "$TS_DIR"/got "$TS_DIR"/download.log
	mkfifo "$TS_DIR/stream.fifo" "$TS_DIR/hash.fifo" "$TS_DIR/plain.fifo"
	# The pipeline: download → stream.fifo → tee (→ hash.fifo → sha256sum) → decompressor →
	# plain.fifo → dd to the disk in 4 MiB blocks. Each stage leaves its exit status in rc.*.
	sha256sum <"$TS_DIR/hash.fifo" >"$TS_DIR/image.sha" &
	{
		tee "$TS_DIR/hash.fifo" <"$TS_DIR/stream.fifo"
		echo "$?" >"$TS_DIR/rc.tee"
	} | {
		$ts_decomp
		echo "$?" >"$TS_DIR/rc.decompress"
	} >"$TS_DIR/plain.fifo" &
	dd if="$TS_DIR/plain.fifo" of="$TS_DEV/$TS_DISK" bs=4M iflag=fullblock conv=notrunc 2>"$TS_DIR/dd.err" &
	ts_dd=$!
	{
		ts_download "$ts_pkg" "$ts_image" "$ts_bytes"
		echo "$?" >"$TS_DIR/rc.download"
	} >"$TS_DIR/stream.fifo" &
	ts_producer=$!
	ts_start=$(date +%s) ts_last=$ts_start TS_IMAGE_POSTED=0 ts_pos=0 ts_seen=$ts_start
	while kill -0 "$ts_dd" 2>/dev/null; do
		sleep 1
		ts_now=$(date +%s)
		ts_w=$(ts_written "$ts_dd")
		case $ts_w in '' | *[!0-9]*) continue ;; esac
		[ "$ts_w" != "$ts_pos" ] && ts_pos=$ts_w ts_seen=$ts_now
		if [ $((ts_now - ts_seen)) -ge "$TS_STALL_SECONDS" ]; then
			# Nothing written for a minute: the connection is dropped, the download resumes.
			kill "$(cat "$TS_DIR/conn.pid" 2>/dev/null)" 2>/dev/null
			ts_log "apply-image: nothing for $TS_STALL_SECONDS s, connection dropped"
			ts_seen=$ts_now
		fi
		if [ $((ts_now - ts_last)) -ge "$TS_PROGRESS_EVERY" ]; then
			ts_image_progress "$1" "$ts_w" "$ts_size" $((ts_now - ts_start))
			ts_last=$ts_now
		fi
	done
	wait "$ts_dd"
	ts_dd_rc=$?
	wait
	ts_secs=$(($(date +%s) - ts_start))
	screen '\r\033[K'
	sed 's/^/    /' "$TS_DIR/download.log" >>"$TS_LOG" 2>/dev/null
	ts_conns=$(cat "$TS_DIR/connections" 2>/dev/null)
	ts_got=$(cat "$TS_DIR/got" 2>/dev/null)
	ts_have=$(cut -d ' ' -f 1 "$TS_DIR/image.sha" 2>/dev/null)
	if [ "$(cat "$TS_DIR/rc.download" 2>/dev/null)" != 0 ]; then
		[ "${ts_got:-0}" -gt 0 ] && ts_wipe "$TS_DISK" "$TS_DISK_BYTES" "$ts_size"
		ts_disk_fail image-download-failed "$ts_image: ${ts_got:-0} of $ts_bytes bytes from ${ts_conns:-0} connections ($(tail -n 1 "$TS_DIR/download.log" 2>/dev/null))"
		return 1
	fi
	if [ "$ts_have" != "$ts_sha" ]; then
		ts_wipe "$TS_DISK" "$TS_DISK_BYTES" "$ts_size"
		ts_disk_fail image-hash-mismatch "$ts_image: sha256 $ts_have, the package says $ts_sha; the disk was wiped"
		return 1
	fi
	if [ "$(cat "$TS_DIR/rc.decompress" 2>/dev/null)" != 0 ] || [ "$ts_dd_rc" != 0 ]; then
		ts_wipe "$TS_DISK" "$TS_DISK_BYTES" "$ts_size"
		ts_disk_fail image-write-failed "$ts_image: $ts_comp exit $(cat "$TS_DIR/rc.decompress" 2>/dev/null), dd exit $ts_dd_rc ($(tail -n 1 "$TS_DIR/dd.err"))"
		return 1
	fi
	sync
	if [ "$ts_table" = gpt ]; then
		# The image's GPT backup sits at the image's end: moved to the disk's end.
		ts_out=$($(ts_tool sfdisk) --relocate gpt-bak-std "$TS_DEV/$TS_DISK" 2>&1) ||
			{ ts_disk_fail image-write-failed "sfdisk --relocate: $ts_out"; return 1; }
	fi
	blockdev --rereadpt "$TS_DEV/$TS_DISK" 2>/dev/null
	TS_IMAGE_ROOT=$ts_root TS_IMAGE_FIRMWARE=$7
	ts_rate=$(awk -v b="$ts_size" -v s="$ts_secs" 'BEGIN { printf "%.1f", (s > 0 ? b / s : b) / 1048576 }')
	TS_MESSAGE="$(ts_mib "$ts_size") MiB to /dev/$TS_DISK in $ts_secs s ($ts_rate MiB/s); $ts_got bytes in $ts_conns connection(s); sha256 ok"
	ts_log "apply-image: $TS_MESSAGE"
}

# ts_mount_root: the applied image's root partition on TS_TARGET (ext4 and its modules loaded first).
ts_mount_root() {
	[ -n "${TS_IMAGE_ROOT-}" ] || { ts_disk_fail no-image "no apply-image step wrote this disk yet"; return 1; }
	ts_part=$(ts_partition "$TS_DISK" "$TS_IMAGE_ROOT")
	ts_k=0
	while [ ! -b "$ts_part" ] && [ "$ts_k" -lt 10 ]; do
		blockdev --rereadpt "$TS_DEV/$TS_DISK" 2>/dev/null
		sleep 1
		ts_k=$((ts_k + 1))
	done
	for ts_m in ${BM_MODULES_DISK-}; do modprobe "$ts_m" 2>/dev/null; done
	mkdir -p "$TS_TARGET"
	mount -t ext4 "$ts_part" "$TS_TARGET" 2>"$TS_DIR/mount.err" || mount "$ts_part" "$TS_TARGET" 2>>"$TS_DIR/mount.err" ||
		{ ts_disk_fail mount-failed "$ts_part: $(tail -n 1 "$TS_DIR/mount.err")"; return 1; }
}
ts_umount_root() {
	sync
	umount "$TS_TARGET" 2>/dev/null
}

# ts_inside PATH: true when PATH (a folder that exists) resolves inside the mounted root, so a
# link in the image cannot send a write elsewhere.
ts_inside() {
	ts_real=$(realpath "$1" 2>/dev/null) || return 1
	case "$ts_real/" in "$TS_TARGET"/*) return 0 ;; esac
	return 1
}

# ts_put_file PATH MODE: stdin into the installed root's PATH with MODE.
ts_put_file() {
	ts_dir=$TS_TARGET$(dirname "$1")
	mkdir -p "$ts_dir" && ts_inside "$ts_dir" || { ts_disk_fail write-failed "$1: its folder leaves the installed system"; return 1; }
	[ -L "$TS_TARGET$1" ] && rm -f "$TS_TARGET$1"
	cat >"$TS_TARGET$1" && chmod "$2" "$TS_TARGET$1" || { ts_disk_fail write-failed "$1 could not be written"; return 1; }
}

# ts_sh_quote VALUE: VALUE in single quotes for sh.
ts_sh_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

# ts_variables_env: the non-secret task-sequence variables as NAME='value' lines (the engine's
# own _ names left out); a secret value copied into another variable is redacted.
ts_variables_env() {
	set | sed -n 's/^TSV_\([A-Za-z][A-Za-z0-9_]*\)=.*/\1/p' | sort -u | while read -r ts_v; do
		ts_defined "$ts_v" || continue
		case " ${BM_SECRET_VARIABLES-} " in *" $ts_v "*) continue ;; esac
		eval "printf '%s=%s\n' \"\$ts_v\" \"\$(ts_sh_quote \"\$TSV_$ts_v\")\""
	done | ts_redact
}

# ts_write_files INDEX: the write-files step, through a mount of the image's root partition.
ts_write_files() {
	ts_mount_root || return 1
	ts_write_files_mounted "$1"
	ts_wf=$?
	ts_umount_root
	return $ts_wf
}
ts_write_files_mounted() {
	ts_name=$TSV_OSDComputerName
	printf '%s\n' "$ts_name" | ts_put_file /etc/hostname 0644 || return 1
	{
		grep -v '^127\.0\.1\.1[[:space:]]' "$TS_TARGET/etc/hosts" 2>/dev/null || printf '127.0.0.1\tlocalhost\n'
		printf '127.0.1.1\t%s\n' "$ts_name"
	} >"$TS_DIR/hosts" && ts_put_file /etc/hosts 0644 <"$TS_DIR/hosts" || return 1
	ts_count=0
	ts_pkg=$(ts_field "$1" b)
	if [ "$ts_pkg" != - ]; then
		ts_fetch_package "$ts_pkg" || { TS_CODE=package-not-downloaded && return 1; }
		while read -r ts_id ts_sha ts_size ts_path; do
			[ "$ts_id" = "$ts_pkg" ] || continue
			ts_path=/$(ts_b64 "$ts_path")
			ts_put_file "$ts_path" 0644 <"$TS_DIR/packages/$ts_pkg$ts_path" || return 1
			ts_count=$((ts_count + 1))
		done <"$TS_DIR/files"
	fi
	[ -f "$TS_DIR/wfiles" ] && while read -r ts_i ts_mode ts_path ts_content; do
		[ "$ts_i" = "$1" ] || continue
		ts_path=$(ts_b64 "$ts_path")
		ts_text=$(ts_b64 "$ts_content"; echo .)
		ts_expand "${ts_text%.}"
		printf '%s' "$TS_EXPANDED" | ts_put_file "$ts_path" "$ts_mode" || return 1
		TS_EXPANDED=""
		ts_count=$((ts_count + 1))
	done <"$TS_DIR/wfiles"
	mkdir -p "$TS_TARGET$TS_HANDOFF" && chmod 700 "$TS_TARGET$TS_HANDOFF"
	ts_variables_env | ts_put_file "$TS_HANDOFF/variables.env" 0600 || return 1
	TS_MESSAGE="hostname $ts_name, $ts_count files, variables.env on $(ts_partition "$TS_DISK" "$TS_IMAGE_ROOT")"
	ts_log "write-files: $TS_MESSAGE"
}

# ts_restart INDEX: the restart step; the handoff and the reboot come after the sequence's end
# (ts_restart_now), so its own events and the log are sent first.
ts_restart() {
	[ -n "${TS_IMAGE_ROOT-}" ] || ts_log "restart: no image was applied in this run: no handoff is written"
	TS_RESTART=$1
	TS_MESSAGE="restarting into the installed system"
}

# ts_handoff: report.env, report.key, queue/ and log.pending in the installed root (deploy
# contract §4): what the installed OS needs to report `deployed`, and what could not be sent.
ts_handoff() {
	ts_mount_root || return 1
	ts_h=$TS_TARGET$TS_HANDOFF
	mkdir -p "$ts_h/queue" && chmod 700 "$ts_h" "$ts_h/queue"
	ts_ca=""
	if [ -n "${BM_MP_CA-}" ] && [ -f "$BM_MP_CA" ]; then
		cp "$BM_MP_CA" "$ts_h/mp-ca.pem" && ts_ca=$TS_HANDOFF/mp-ca.pem
	fi
	ts_keysha=""
	[ -f "${REPORT_KEY-}" ] && ts_keysha=$(openssl pkey -in "$REPORT_KEY" -pubout -outform DER 2>/dev/null | sha256sum | cut -d ' ' -f 1)
	{
		echo "BM_MP=$(ts_sh_quote "$TS_MP")"
		[ -n "$ts_ca" ] && echo "BM_MP_CA=$(ts_sh_quote "$ts_ca")"
		echo "BM_MAC=$(ts_sh_quote "$TS_MAC")"
		echo "BM_DEPLOYMENT_ID=$(ts_sh_quote "$TS_DEPLOYMENT")"
		echo "BM_RUN=$(ts_sh_quote "$TS_RUN")"
		echo "BM_NEXT_SEQ='$((TS_SEQ + 1))'"
		echo "BM_STEP_COUNT='$TS_M'"
		echo "BM_COMPUTER=$(ts_sh_quote "$TS_COMPUTER")"
		echo "BM_REPORT_KEY_SHA256='$ts_keysha'"
	} | ts_put_file "$TS_HANDOFF/report.env" 0600
	[ -f "${REPORT_KEY-}" ] && ts_put_file "$TS_HANDOFF/report.key" 0600 <"$REPORT_KEY"
	ts_q=0
	rm -f "$ts_h"/queue/*.json
	while IFS= read -r ts_ev; do
		ts_s=$(printf '%s' "$ts_ev" | sed -n 's/.*"seq":\([0-9]*\),.*/\1/p')
		printf '%s\n' "$ts_ev" | ts_put_file "$TS_HANDOFF/queue/$(printf '%06d' "$ts_s").json" 0600
		ts_q=$((ts_q + 1))
	done <"$TS_QUEUE"
	rm -f "$ts_h/log.pending"
	[ -z "${TS_LOG_SENT-}" ] && ts_put_file "$TS_HANDOFF/log.pending" 0600 <"$TS_LOG.sent"
	ts_umount_root
	step_ok "Handoff to the installed system" "$ts_q events queued${TS_LOG_SENT:+, log sent}${TS_LOG_SENT:-, log pending}"
}

# ts_boot_next: UEFI boots the disk next and first (an entry for its loader, BootNext and the
# head of BootOrder); a CD medium is ejected. BIOS machines boot the disk once the media are gone
# or after them in the boot order: nothing to set.
ts_boot_next() {
	TS_BOOT_ENTRY=""
	if [ -d "$TS_EFI_DIR" ]; then
		for ts_m in ${BM_MODULES_DISK-}; do modprobe "$ts_m" 2>/dev/null; done
		mount -t efivarfs efivarfs "$TS_EFI_DIR/efivars" 2>/dev/null
		ts_esp=$(sfdisk_esp "$TS_DISK")
		ts_loader='\EFI\BOOT\BOOTX64.EFI'
		[ "$(uname -m)" = x86_64 ] || ts_loader='\EFI\BOOT\BOOTIA32.EFI'
		ts_efi=$(ts_tool efibootmgr)
		if [ -n "$ts_esp" ] && ts_out=$($ts_efi -q -c -d "$TS_DEV/$TS_DISK" -p "$ts_esp" -L "bootmedia: installed system" -l "$ts_loader" 2>&1); then
			ts_num=$($ts_efi 2>/dev/null | sed -n 's/^Boot\([0-9A-Fa-f]\{4\}\)\* bootmedia: installed system.*/\1/p' | tail -n 1)
			[ -n "$ts_num" ] && $ts_efi -q -n "$ts_num" >/dev/null 2>&1 && TS_BOOT_ENTRY=$ts_num
			ts_log "efibootmgr: Boot$ts_num for /dev/$TS_DISK partition $ts_esp $ts_loader, BootNext and first in BootOrder"
			step_ok "Boot order" "UEFI boots Boot$ts_num (the disk) next"
		else
			ts_log "efibootmgr failed (ESP partition ${ts_esp:-not found}): $ts_out"
			step_failed "Boot order" "UEFI entry not made; the firmware's fallback decides"
		fi
	fi
	case ${MEDIA_DEV-} in
		/dev/sr*)
			umount "$MEDIA" 2>/dev/null
			eject "$MEDIA_DEV" 2>/dev/null || ts_log "eject $MEDIA_DEV failed (no eject command or locked tray)"
			;;
	esac
	return 0
}

# sfdisk_esp DISK: the number of the disk's EFI system partition (GPT type C12A7328-…), if any.
sfdisk_esp() {
	$(ts_tool sfdisk) -d "$TS_DEV/$1" 2>$TS_DEV/null | awk -F '[ :,=]+' 'toupper($0) ~ /C12A7328-F81F-11D2-BA4B-00A0C93EC93B/ { n = $1; sub(/.*[^0-9]/, "", n); print n; exit }'
}

# ts_restart_now: after the sequence's end: handoff, boot order, marker, reboot.
ts_restart_now() {
	[ -n "${TS_IMAGE_ROOT-}" ] && { ts_handoff || step_failed "Handoff to the installed system" "${TS_MESSAGE-}"; }
	ts_boot_next
	say "{\"event\":\"restart\",\"disk\":$(json_str "/dev/${TS_DISK-}"),\"deployment\":$(json_str "$TS_DEPLOYMENT"),\"computer\":$(json_str "$TS_COMPUTER"),\"queued\":$(wc -l <"$TS_QUEUE"),\"bootEntry\":$([ -n "$TS_BOOT_ENTRY" ] && json_str "$TS_BOOT_ENTRY" || echo null),\"logSent\":$([ -n "${TS_LOG_SENT-}" ] && echo true || echo false)}"
	screen '\n'
	bar "Restarting into the installed system on /dev/${TS_DISK-}." "1;37;42"
	sync
	sleep 2
	reboot -f
	sleep 5
	exit 0
}
