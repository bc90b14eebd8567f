# shellcheck shell=sh
# Sourced by /init. What the technician in front of the machine reads: the media's name,
# each step with "ok" or "failed" in words, questions as sentences, and on failure what
# went wrong and what to do. It goes to the screen only ($SCREEN, the VGA/framebuffer
# console); the BOOTMEDIA markers go to the serial line only (`say`), so machines and
# people each read their own console. Colours and cursor codes are the Linux console's
# (console_codes(4)); a screen this file cannot write to is skipped silently.

# Width of a step line up to its result, of the result, and the console's columns (80 on VGA text).
STEP_WIDTH=34
RESULT_WIDTH=11
screen_columns() {
	cols=$(stty -F "$SCREEN" size 2>/dev/null | cut -d ' ' -f 2)
	case $cols in '' | *[!0-9]*) echo 80 ;; *) [ "$cols" -gt 100 ] && echo 100 || echo "$cols" ;; esac
}

# screen FORMAT [ARG...]: printf to the screen.
screen() {
	[ -n "${SCREEN-}" ] || return 0
	# shellcheck disable=SC2059 # the format is ours, never input
	printf "$@" >>"$SCREEN" 2>/dev/null
	return 0
}

# bar TEXT COLOURS: one full-width line in the given colours (e.g. "1;37;44"), cut to the width.
bar() {
	width=$(screen_columns)
	line=$(printf ' %s' "$1" | cut -c "1-$width")
	while [ ${#line} -lt "$width" ]; do line="$line "; done
	screen '\033[%sm%s\033[0m\n' "$2" "$line"
}

# screen_start: a clean screen while the media is still being looked for.
screen_start() {
	screen '\033[2J\033[H'
	bar "bootmedia deployment environment" "1;37;44"
	screen '\n  Starting on this computer: %s, %s firmware.\n  Looking for the boot media (CD/DVD or USB drive)...\n' "$1" "$2"
}

# screen_media NAME TASK_SEQUENCE MP_COUNT MACHINE: the header once the media is known.
screen_media() {
	screen '\033[2J\033[H'
	bar "bootmedia  -  $1" "1;37;44"
	mps="no management point"
	[ "$3" -eq 1 ] && mps="1 management point"
	[ "$3" -gt 1 ] && mps="$3 management points"
	screen '\n  Task sequence %s, %s. This computer: %s.\n\n' "${2:-none}" "$mps" "$4"
}

# dotted LABEL: the label padded with dots to STEP_WIDTH.
dotted() {
	line="  $1 "
	while [ ${#line} -lt "$STEP_WIDTH" ]; do line="$line."; done
	printf '%s' "$line"
}

# step RESULT COLOUR LABEL [DETAIL]: one step line; the detail is cut to the screen's width.
step() {
	room=$(($(screen_columns) - STEP_WIDTH - RESULT_WIDTH - 2))
	detail=$(printf '%s' "${4-}" | cut -c "1-$room")
	screen '%s \033[%sm%-*s\033[0m %s\n' "$(dotted "$3")" "$2" "$RESULT_WIDTH" "$1" "$detail"
}

# step_ok LABEL [DETAIL] / step_failed LABEL [DETAIL] / step_skipped LABEL [WHY]
step_ok() { step ok "1;32" "$@"; }
step_failed() { step failed "1;31" "$@"; }
step_skipped() { step "not needed" "37" "$@"; }

# screen_note TEXT: an indented line of plain text (output, hints).
screen_note() { screen '    %s\n' "$1"; }

# screen_ask_begin / screen_ask QUESTION... / screen_ask_end: a question block (yellow
# sentences, each argument a line, then the input mark) that is wiped once answered, so
# the screen keeps the list of steps: the cursor is saved before it (ESC 7) and restored
# after it (ESC 8), the rest of the screen cleared.
screen_ask_begin() { screen '\0337'; }
screen_ask() {
	screen '\n'
	for q in "$@"; do screen '  \033[1;33m%s\033[0m\n' "$q"; done
	screen '  > '
}
screen_ask_end() { screen '\0338\033[J'; }

# screen_warn TEXT: a line in red (a wrong password).
screen_warn() { screen '\n  \033[1;31m%s\033[0m' "$1"; }

# screen_ready DETAIL: the success banner (READY_LINE instead, once a task sequence ran).
screen_ready() {
	screen '\n'
	bar "${READY_LINE:-Ready: this computer can be deployed.${1:+ $1}}" "1;37;42"
}

# explain REASON: two lines, "what went wrong" then "what to do", for the failure screen.
explain() {
	case $1 in
		media-not-found) set -- "The boot media could not be found after the computer started from it." "Leave the CD/DVD or USB drive in, check it is not damaged, and start again." ;;
		media-config-missing | media-config-invalid) set -- "The media's settings (bootmedia/media.env) are missing or damaged." "Create the media again with bootmedia, then start from it again." ;;
		modules-list-missing | agent-incomplete) set -- "The boot image on this media is incomplete." "Create the media again from an intact boot image." ;;
		no-nic-driver) set -- "No network adapter of this computer has a driver in the boot image." "Add this computer's network driver to the boot image (--drivers), create the media again." ;;
		wrong-password) set -- "The media password was typed wrong three times." "Ask your administrator for the media password and start the computer again." ;;
		password-timeout) set -- "Nobody typed the media password in time." "Start the computer again and type the media password when asked." ;;
		secrets-tampered) set -- "The password is right but the media's protected settings are damaged." "Do not use this media: create it again with bootmedia." ;;
		unlock-failed | openssl-unusable) set -- "The media's protected settings could not be opened." "Create the media again with the boot image bootmedia built for it." ;;
		prestart-failed) set -- "The prestart command ended with an error (its output is above)." "Fix what the prestart command reports, or ask the person who made the media." ;;
		no-network) set -- "The network adapter could not be brought up." "Check the network cable and the network settings, then start again." ;;
		no-mp-reachable) set -- "No management point answered." "Check the network cable and that the management points are running; start again." ;;
		certificate-rejected) set -- "The management point rejected this media's certificate${2:+ ($2)}." "The media may be expired, blocked or not yet registered: ask for new media." ;;
		unknown-computer) set -- "The site does not know this computer, and this media does not allow unknown computers." "Ask your administrator to import this computer, or use media for unknown computers." ;;
		no-deployment) set -- "No task sequence is deployed to this computer." "Ask your administrator to deploy a task sequence to this computer's collection." ;;
		task-sequence-failed)
			if [ "${BM_MEDIA_TYPE-}" = standalone ]; then
				set -- "The task sequence stopped: ${2:-a step} failed (its output is above)." "Fix what the step reports (its log is in the logs folder of a USB drive), then start the computer again."
			else
				set -- "The task sequence stopped: ${2:-a step} failed (its output is above)." "Fix what the step reports (its log is on the management point), then start the computer again."
			fi
			;;
		standalone-unreadable) set -- "The stand-alone media's task sequence or index is missing or damaged." "Create the stand-alone media again with bootmedia." ;;
		standalone-tampered) set -- "The stand-alone media were altered: their index does not match its code." "Do not use these media: create them again with bootmedia." ;;
		standalone-locked) set -- "The stand-alone media's content could not be unlocked with the password." "Create the media again with the boot image bootmedia built for them." ;;
		task-sequence-unreadable) set -- "The management point sent task-sequence steps that could not be read." "Check the management point's version and the task sequence's steps file; start again." ;;
		mp-bad-answer) set -- "A management point gave an answer that could not be read." "Check the management point's health; start again later." ;;
		*) set -- "The boot stopped (reason: $1)." "Note this reason and tell your administrator." ;;
	esac
	printf '%s\n%s\n' "$1" "$2"
}

# screen_failure REASON [WHY]: what went wrong and what to do, under a red bar.
screen_failure() {
	what=$(explain "$1" "${2-}" | sed -n 1p)
	todo=$(explain "$1" "${2-}" | sed -n 2p)
	screen '\n'
	bar "Stopped: this computer cannot be deployed." "1;37;41"
	screen '  \033[1mWhat went wrong\033[0m  %s\n' "$(wrap "$what")"
	screen '  \033[1mWhat to do\033[0m       %s\n' "$(wrap "$todo")"
	screen '  \033[1mReason code\033[0m      %s\n' "$1"
}

# wrap TEXT: folded to the screen right of the 19-column labels, later lines indented to them.
wrap() { printf '%s\n' "$1" | fold -s -w $(($(screen_columns) - 21)) | sed -e '2,$s/^/                   /' -e 's/ *$//'; }

# The task sequence (lib/ts.sh): a heading, "Step N of M: name" as each step starts, its
# output indented below it, a progress line in cyan when it reports one, then its result
# (step_ok / step_failed / step_skip).
screen_ts_start() { screen '\n  \033[1mTask sequence %s: %s steps\033[0m\n' "$1" "$2"; }
screen_ts_step() { screen '  \033[1mStep %s of %s: %s\033[0m\n' "$1" "$2" "$3"; }
screen_ts_progress() { screen '    \033[36m%s\033[0m\n' "$1"; }
step_skip() { step skipped "37" "$@"; }
