# shellcheck shell=sh
# Sourced by bootmedia-installed-os and bootmedia-report: facts about this boot, and the handoff
# the deployment left in /var/lib/bootmedia (docs/os-images.md). Tests point BOOTMEDIA_STATE_DIR
# and BOOTMEDIA_SYSFS at folders of their own.
STATE=${BOOTMEDIA_STATE_DIR:-/var/lib/bootmedia}
SYSFS=${BOOTMEDIA_SYSFS:-/sys}
# The SecureBoot variable of the EFI global namespace (UEFI §3.3): 4 bytes of attributes, then 1 = on.
SECURE_BOOT_VAR=$SYSFS/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"; }

# bios | uefi: how the firmware started this boot.
boot_firmware() { if [ -d "$SYSFS/firmware/efi" ]; then echo uefi; else echo bios; fi; }

# true | false: Secure Boot enforced by the firmware in this boot.
secure_boot() {
	if [ -r "$SECURE_BOOT_VAR" ] && [ "$(od -An -tu1 -j4 -N1 "$SECURE_BOOT_VAR" | tr -d ' \n')" = 1 ]; then
		echo true
	else
		echo false
	fi
}

this_hostname() { hostname 2>/dev/null || cat /etc/hostname; }

# handoff NAME: a value of report.env (sh-quoted NAME='value' lines), empty when absent.
handoff() { [ -r "$STATE/report.env" ] && (. "$STATE/report.env" && eval "printf '%s' \"\${$1-}\""); }
