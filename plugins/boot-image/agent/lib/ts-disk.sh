# shellcheck shell=sh
# Sourced by /init. The disk steps of the task-sequence engine (lib/ts.sh; docs/task-sequences.md):
# select-disk, write-files and restart; apply-image, the image's stream to the disk, is
# lib/ts-image.sh. busybox sh, with sfdisk and efibootmgr from the boot image (/usr/bin). A
# failure carries a code (TS_CODE): the event's message starts with it, the error marker and
# the screen name it.

# The installed root is mounted here by write-files and restart.
TS_TARGET=/tmp/bootmedia-target
# The handoff folder of the installed root (deploy contract §4).
TS_HANDOFF=/var/lib/bootmedia
# Seconds the root partition's device node gets to appear after the partition table is reread
# (tests, whose disks are files, set 0).
TS_PART_WAIT=10

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
	ts_what="non-removable disk"
	[ -n "$ts_serial" ] && ts_what="disk with serial $ts_serial"
	[ -n "$ts_want" ] && ts_what="disk /dev/$ts_want"
	if [ -n "$ts_small" ]; then
		ts_disk_fail disk-too-small "a $ts_what of at least $(ts_size_words "$ts_min") is needed; too small:$ts_small"
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

# ts_mount_root: the applied image's root partition on TS_TARGET (ext4 and its modules loaded first).
ts_mount_root() {
	[ -n "${TS_IMAGE_ROOT-}" ] || { ts_disk_fail no-image "no apply-image step wrote this disk yet"; return 1; }
	ts_part=$(ts_partition "$TS_DISK" "$TS_IMAGE_ROOT")
	ts_k=0
	while [ ! -b "$ts_part" ] && [ "$ts_k" -lt "$TS_PART_WAIT" ]; do
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
	[ -z "${SA_OPEN-}" ] || { ts_handoff_standalone; return; }
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

# ts_handoff_standalone: the installed system's report.env names the deployment (the media), and
# `delivered` says there is nothing to send: no management point, the log is on the media.
ts_handoff_standalone() {
	mkdir -p "$TS_TARGET$TS_HANDOFF" && chmod 700 "$TS_TARGET$TS_HANDOFF"
	{
		echo "BM_MP=''"
		echo "BM_DEPLOYMENT_ID=$(ts_sh_quote "$TS_DEPLOYMENT")"
		echo "BM_RUN=$(ts_sh_quote "$TS_RUN")"
		echo "BM_STEP_COUNT='$TS_M'"
		echo "BM_COMPUTER=$(ts_sh_quote "$TS_COMPUTER")"
		echo "BM_MEDIA_TYPE='standalone'"
	} | ts_put_file "$TS_HANDOFF/report.env" 0600 &&
		echo "stand-alone media: no management point; the log is on the media (${SA_LOG_RUN:-not kept})" | ts_put_file "$TS_HANDOFF/delivered" 0600
	ts_hs=$?
	ts_umount_root
	[ "$ts_hs" -eq 0 ] && step_ok "Handoff to the installed system" "stand-alone: nothing to report"
	return $ts_hs
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
