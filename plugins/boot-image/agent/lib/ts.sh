# shellcheck shell=sh
# Sourced by /init. The task-sequence engine (docs/task-sequences.md): after the policy, runs
# the steps the management point sent (the answer's `steps`, base64 of the wire text of
# core/task-sequence/wire.ts), or stand-alone media's program (lib/standalone.sh), in order,
# with their conditions and the group and continueOnError rules; reports each step through
# lib/ts-report.sh. busybox sh + openssl.
# Variables live in shell variables TSV_<name> (names are checked before any eval); secret
# values are never printed, posted or logged: every byte a command writes passes ts_redact.

TS_DIR=/tmp/bootmedia-ts
# Lines of a step's output kept for the log (each cut at 512 bytes), and bytes of its tail
# a failure event carries.
TS_KEEP_LINES=100
TS_MESSAGE_BYTES=400
TS_TAB=$(printf '\t')

# ts_name_ok NAME: a task-sequence variable name (the only thing ever put into an eval).
ts_name_ok() {
	case $1 in '' | [!A-Za-z_]* | *[!A-Za-z0-9_]*) return 1 ;; esac
}
ts_defined() { ts_name_ok "$1" && eval "[ -n \"\${TSV_$1+x}\" ]"; }
# ts_set NAME VALUE
ts_set() { ts_name_ok "$1" && eval "TSV_$1=\$2"; }

# ts_expand TEXT: sets TS_EXPANDED to TEXT with each %Name% of a defined variable replaced by
# its value (one pass); an unknown name, or a lone %, stays as written.
ts_expand() {
	ts_x_rest=$1 TS_EXPANDED=""
	while :; do
		case $ts_x_rest in *%*%*) ;; *) break ;; esac
		ts_x_pre=${ts_x_rest%%\%*}
		ts_x_after=${ts_x_rest#*\%}
		ts_x_var=${ts_x_after%%\%*}
		if ts_defined "$ts_x_var"; then
			eval "TS_EXPANDED=\$TS_EXPANDED\$ts_x_pre\$TSV_$ts_x_var"
			ts_x_rest=${ts_x_after#*\%}
		else
			TS_EXPANDED=$TS_EXPANDED$ts_x_pre%
			ts_x_rest=$ts_x_after
		fi
	done
	TS_EXPANDED=$TS_EXPANDED$ts_x_rest
}

# ts_b64 FIELD: a base64 field of the wire text decoded ("-" is empty).
ts_b64() {
	[ "$1" = - ] || printf '%s' "$1" | base64 -d 2>/dev/null
}
# ts_field INDEX KEY: a field of step INDEX as loaded (n name, t type; the rest raw).
ts_field() {
	case $2 in
		n) eval "ts_b64 \"\$S$1_n\"" ;;
		*) eval "printf '%s' \"\$S$1_$2\"" ;;
	esac
}

# ts_secret VALUE: every line of a secret value goes into the redaction list.
ts_secret() { [ -n "$1" ] && printf '%s\n' "$1" >>"$TS_DIR/secrets"; }

# ts_redact: stdin to stdout with every secret (each line of TS_DIR/secrets) as ***.
TS_REDACT_AWK='BEGIN { while ((getline s < secrets) > 0) if (length(s) > 0) sec[++n] = s }
function redact(line,   i, p, out) {
	for (i = 1; i <= n; i++) {
		out = ""
		while ((p = index(line, sec[i])) > 0) { out = out substr(line, 1, p - 1) "***"; line = substr(line, p + length(sec[i])) }
		line = out line
	}
	return line
}'
ts_redact() { awk -v secrets="$TS_DIR/secrets" "$TS_REDACT_AWK"'{ print redact($0) }'; }

# ts_media_variables: media.json's plain `variables` (JSON.stringify(_, null, 2): one member a
# line at four spaces) as TSV_ assignments; names starting with _ are the engine's own.
ts_media_variables() {
	[ -f "$MEDIA/bootmedia/media.json" ] || return 0
	awk 'function hex(h,   i, v) { v = 0; for (i = 1; i <= 4; i++) v = v * 16 + index("0123456789abcdef", tolower(substr(h, i, 1))) - 1; return v }
	function unjson(s,   out, i, c, v) {
		if (index(s, "\\") == 0) return s
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c != "\\") { out = out c; continue }
			c = substr(s, ++i, 1)
			if (c == "n") out = out "\n"; else if (c == "t") out = out "\t"; else if (c == "r") out = out "\r"
			else if (c == "b") out = out "\b"; else if (c == "f") out = out "\f"
			else if (c == "u") { v = hex(substr(s, i + 1, 4)); i += 4; if (v > 0 && v < 128) out = out sprintf("%c", v) }
			else out = out c
		}
		return out
	}
	index($0, "  \"variables\": {") == 1 { on = 1; next }
	on && /^  [}]/ { exit }
	on && /^    "[A-Za-z][A-Za-z0-9_]*": "/ {
		name = substr($0, 6); name = substr(name, 1, index(name, "\"") - 1)
		v = substr($0, length(name) + 10); sub(/,$/, "", v); sub(/"$/, "", v)
		v = unjson(v); gsub(/\047/, "\047\\\047\047", v)
		print "TSV_" name "=\047" v "\047"
	}' "$MEDIA/bootmedia/media.json" >"$TS_DIR/media-variables.sh"
	. "$TS_DIR/media-variables.sh"
}

# ts_secret_variables: the unlocked secret variables (BM_VAR_<name>), into the redaction list
# with the media key's lines.
ts_secret_variables() {
	for ts_var in ${BM_SECRET_VARIABLES-}; do
		ts_name_ok "$ts_var" || continue
		eval "[ -n \"\${BM_VAR_$ts_var+x}\" ]" || continue
		eval "ts_set \"\$ts_var\" \"\$BM_VAR_$ts_var\"; ts_secret \"\$BM_VAR_$ts_var\""
	done
	[ -n "${BM_MEDIA_KEY-}" ] && printf '%s\n' "$BM_MEDIA_KEY" | grep -v -- '-----' >>"$TS_DIR/secrets"
	return 0
}

# ts_load FILE: the wire text: S lines as S<i>_<field> variables, V lines as policy variables,
# L, P, F and I lines (content locations, package files, write-files files, os images) into
# files. False when malformed.
ts_load() {
	IFS="$TS_TAB" read -r ts_magic ts_version TS_M <"$1" || return 1
	[ "$ts_magic" = bootmedia-steps ] && [ "$ts_version" = 1 ] || return 1
	case $TS_M in '' | *[!0-9]*) return 1 ;; esac
	: >"$TS_DIR/locations"
	: >"$TS_DIR/files"
	: >"$TS_DIR/wfiles"
	: >"$TS_DIR/images"
	ts_n=0
	while IFS="$TS_TAB" read -r ts_k f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11; do
		case $ts_k in
			S)
				ts_n=$((ts_n + 1))
				[ "$f1" = "$ts_n" ] || return 1
				case "$f2$f3$f5" in '' | *[!0-9]*) return 1 ;; esac
				case $f4 in run-command | set-variable | group | select-disk | apply-image | write-files | restart) ;; *) return 1 ;; esac
				case "$f6$f7" in *[!0-9,-]*) return 1 ;; esac
				eval "S${f1}_p=\$f2 S${f1}_l=\$f3 S${f1}_t=\$f4 S${f1}_coe=\$f5 S${f1}_to=\$f6 S${f1}_codes=\$f7 S${f1}_n=\$f8 S${f1}_c=\$f9 S${f1}_a=\$f10 S${f1}_b=\$f11"
				;;
			V) case $f1 in _*) ;; *) ts_set "$f1" "$(ts_b64 "$f2")" ;; esac ;;
			L) printf '%s %s\n' "$f1" "$f2" >>"$TS_DIR/locations" ;;
			P) printf '%s %s %s %s\n' "$f1" "$f2" "$f3" "$f4" >>"$TS_DIR/files" ;;
			F) printf '%s %s %s %s\n' "$f1" "$f2" "$f3" "$f4" >>"$TS_DIR/wfiles" ;;
			I) printf '%s %s %s %s %s %s %s %s\n' "$f1" "$f2" "$f3" "$f4" "$f5" "$f6" "$f7" "$f8" >>"$TS_DIR/images" ;;
		esac
	done <"$1"
	[ "$ts_n" = "$TS_M" ]
}

# ts_condition INDEX: true when the step has no condition or it holds.
ts_condition() {
	ts_cond=$(ts_b64 "$(ts_field "$1" c)")
	[ -n "$ts_cond" ] || return 0
	ts_op=${ts_cond%% *} ts_rest=${ts_cond#* }
	case $ts_op in
		exists) ts_defined "$ts_rest" ;;
		missing) ! ts_defined "$ts_rest" ;;
		equals)
			ts_var=${ts_rest%% *}
			ts_want=${ts_rest#"$ts_var"}
			ts_expand "${ts_want# }"
			ts_defined "$ts_var" && eval "[ \"\$TSV_$ts_var\" = \"\$TS_EXPANDED\" ]"
			;;
		*) return 1 ;;
	esac
}

# ts_set_variable INDEX: the step's variable gets its expanded value.
ts_set_variable() {
	ts_var=$(ts_b64 "$(ts_field "$1" a)")
	case $ts_var in _*) TS_MESSAGE="$ts_var is read-only" && return 1 ;; esac
	ts_value=$(ts_b64 "$(ts_field "$1" b)"; echo .)
	ts_expand "${ts_value%.}"
	ts_set "$ts_var" "$TS_EXPANDED" || { TS_MESSAGE="$ts_var is not a variable name" && return 1; }
	TS_MESSAGE="$ts_var set"
}

# ts_run_command INDEX: runs the expanded command under busybox sh in its own session, killed
# with everything it started after its timeout; its output, redacted, goes to the screen (and
# progress lines, "::progress TEXT", to ts_progress) and its last lines to the log.
# Sets TS_RC; true when TS_RC is one of the step's successCodes.
ts_run_command() {
	ts_dir=/
	ts_pkg=$(ts_field "$1" b)
	if [ "$ts_pkg" != - ]; then
		ts_fetch_package "$ts_pkg" || { TS_RC="" && return 1; }
		ts_dir=$TS_DIR/packages/$ts_pkg
	fi
	ts_expand "$(ts_b64 "$(ts_field "$1" a)")"
	printf '%s\n' "$TS_EXPANDED" >"$TS_DIR/command.sh"
	TS_EXPANDED=""
	ts_timeout=$(ts_field "$1" to)
	rm -f "$TS_DIR/output.fifo" "$TS_DIR/rc"
	: >"$TS_DIR/output"
	mkfifo "$TS_DIR/output.fifo"
	ts_started=$(date +%s)
	(
		cd "$ts_dir" && timeout "$ts_timeout" setsid sh -c 'trap "kill -KILL 0" TERM; sh "$1" </dev/null & wait $!' sh "$TS_DIR/command.sh" 3<&- 2>&1
		echo "$?" >"$TS_DIR/rc"
	) </dev/null | awk -v secrets="$TS_DIR/secrets" -v screen="${SCREEN-}" -v keep="$TS_KEEP_LINES" -v out="$TS_DIR/output" \
		"$TS_REDACT_AWK"'{ line = redact($0) }
		/^::progress / { print substr(line, 12, 400); fflush(); next }
		{ if (screen != "") { print "    " substr(line, 1, 76) >> screen; fflush() }
		  kept[++kc % keep] = substr(line, 1, 512) }
		END { for (i = (kc > keep ? kc - keep + 1 : 1); i <= kc; i++) print kept[i % keep] > out }' >"$TS_DIR/output.fifo" &
	ts_progress_posted=0
	# Opening the FIFO can fail with EINTR when a child ends meanwhile (busybox sh does not
	# retry): the writer would then block forever. A failed redirection of a compound command
	# only skips it, so ts_opened tells an open that failed from one that read to the end.
	ts_opened=""
	while [ -z "$ts_opened" ]; do
		{
			ts_opened=1
			while IFS= read -r ts_line; do
				screen_ts_progress "$ts_line"
				ts_log "step $1 progress: $ts_line"
				[ "$ts_progress_posted" -lt "$TS_PROGRESS_POSTS" ] && ts_event "$1" progress "" "$ts_line"
				ts_progress_posted=$((ts_progress_posted + 1))
			done
		} <"$TS_DIR/output.fifo" 2>/dev/null
	done
	wait
	rm -f "$TS_DIR/command.sh" "$TS_DIR/output.fifo"
	sed 's/^/    | /' "$TS_DIR/output" >>"$TS_LOG"
	TS_RC=$(cat "$TS_DIR/rc" 2>/dev/null)
	TS_MESSAGE=$(tail -c "$TS_MESSAGE_BYTES" "$TS_DIR/output")
	case $TS_RC in '' | *[!0-9]*) TS_RC=255 ;; esac
	if [ "$TS_RC" -ge 128 ] && [ $(($(date +%s) - ts_started)) -ge "$ts_timeout" ]; then
		TS_MESSAGE="timed out after $ts_timeout s${TS_MESSAGE:+: $TS_MESSAGE}"
		return 1
	fi
	case ",$(ts_field "$1" codes)," in *",$TS_RC,"*) return 0 ;; esac
	return 1
}

# ts_fetch_package ID: the package's files (P lines) from its content locations (L lines, in
# order) into TS_DIR/packages/ID with busybox wget (or off stand-alone media), each checked by
# size and sha256.
ts_fetch_package() {
	ts_into=$TS_DIR/packages/$1
	[ -f "$ts_into/.complete" ] && return 0
	mkdir -p "$ts_into"
	ts_missing=""
	while read -r ts_id ts_sha ts_size ts_path; do
		[ "$ts_id" = "$1" ] || continue
		ts_b64path=$ts_path
		ts_path=$(ts_b64 "$ts_path")
		case "/$ts_path/" in */../* | */./* | //*) ts_missing="$ts_missing $ts_path" && continue ;; esac
		mkdir -p "$ts_into/$(dirname "$ts_path")"
		ts_url_path=$(printf '%s' "$ts_path" | sed -e 's/%/%25/g' -e 's/ /%20/g' -e 's/#/%23/g' -e 's/?/%3F/g')
		ts_got=""
		while read -r ts_lid ts_base; do
			[ "$ts_lid" = "$1" ] || continue
			rm -f "$ts_into/$ts_path.part"
			case $ts_base in
				# Stand-alone media: the file off the media, decrypted and its tag checked (lib/standalone.sh).
				media:*) sa_copy "$1" "$ts_b64path" "$ts_into/$ts_path.part" </dev/null || { ts_log "package $1: $ts_path: $(cat "$TS_DIR/media.err" 2>/dev/null)" && continue; } ;;
				# timeout, not wget -T: busybox 1.35's static wget crashes with -T.
				*) timeout 3600 wget -q -O "$ts_into/$ts_path.part" "$ts_base$ts_url_path" </dev/null 2>/dev/null || continue ;;
			esac
			[ "$(wc -c <"$ts_into/$ts_path.part")" = "$ts_size" ] || continue
			[ "$(sha256sum "$ts_into/$ts_path.part" | cut -d ' ' -f 1)" = "$ts_sha" ] || continue
			mv "$ts_into/$ts_path.part" "$ts_into/$ts_path" && ts_got=1 && break
		done <"$TS_DIR/locations"
		rm -f "$ts_into/$ts_path.part"
		[ -n "$ts_got" ] || ts_missing="$ts_missing $ts_path"
	done <"$TS_DIR/files"
	if [ -n "$ts_missing" ]; then
		TS_MESSAGE="package $1: not downloaded:$ts_missing"
		ts_log "$TS_MESSAGE"
		return 1
	fi
	ts_log "package $1 downloaded into $ts_into"
	: >"$ts_into/.complete"
}

# ts_skip FROM TO WHY: steps FROM..TO skipped (a false condition, or a group that ended).
ts_skip() {
	ts_k=$1
	while [ "$ts_k" -le "$2" ]; do
		step_skip "Step $ts_k of $TS_M" "$(ts_field "$ts_k" n) ($3)"
		ts_report "$ts_k" skipped "" "$3"
		ts_k=$((ts_k + 1))
	done
}

# ts_close_groups INDEX: the open groups that end before step INDEX succeeded.
ts_close_groups() {
	while [ -n "$TS_OPEN" ]; do
		ts_g=${TS_OPEN%% *}
		[ "$(ts_field "$ts_g" l)" -lt "$1" ] || break
		TS_OPEN=${TS_OPEN#* }
		step_ok "Step $ts_g of $TS_M" "$(ts_field "$ts_g" n)"
		ts_report "$ts_g" success
	done
}

# ts_fail_up INDEX: a failed step without continueOnError fails its groups, innermost first,
# up to the first with continueOnError (whose remaining steps are skipped: the sequence goes
# on after it, at TS_NEXT) or to the top (TS_STOP: the sequence fails).
ts_fail_up() {
	ts_g=$(ts_field "$1" p) ts_to=""
	while [ "$ts_g" -ne 0 ]; do
		[ "$(ts_field "$ts_g" coe)" = 1 ] && ts_to=$ts_g && break
		ts_g=$(ts_field "$ts_g" p)
	done
	if [ -n "$ts_to" ]; then
		ts_skip $(($1 + 1)) "$(ts_field "$ts_to" l)" "group ended"
		TS_NEXT=$(($(ts_field "$ts_to" l) + 1))
	else
		TS_STOP=$1
	fi
	while [ -n "$TS_OPEN" ]; do
		ts_g=${TS_OPEN%% *}
		TS_OPEN=${TS_OPEN#* }
		step_failed "Step $ts_g of $TS_M" "$(ts_field "$ts_g" n)"
		ts_report "$ts_g" failure "" "step $1 failed"
		TS_FAILED=$((TS_FAILED + 1))
		[ "$ts_g" = "$ts_to" ] && break
	done
}

# ts_step INDEX: one step (not skipped): start, run, result.
ts_step() {
	ts_name=$(ts_field "$1" n) ts_type=$(ts_field "$1" t)
	TSV__SMSTSCurrentActionName=$ts_name TSV__SMSTSNextInstructionPointer=$1
	screen_ts_step "$1" "$TS_M" "$ts_name"
	ts_report "$1" start
	TS_MESSAGE="" TS_RC="" TS_CODE=""
	case $ts_type in
		group) TS_OPEN="$1 $TS_OPEN" && return 0 ;;
		run-command) ts_run_command "$1" ;;
		set-variable) ts_set_variable "$1" ;;
		select-disk) ts_select_disk "$1" ;;
		apply-image) ts_apply_image "$1" ;;
		write-files) ts_write_files "$1" ;;
		restart) ts_restart "$1" ;;
		*) TS_MESSAGE="unknown step type $ts_type" && false ;;
	esac
	ts_ok=$?
	[ -n "$TS_RC" ] && TSV__SMSTSLastActionRetCode=$TS_RC
	if [ "$ts_ok" -eq 0 ]; then
		step_ok "Step $1 of $TS_M" "$ts_name"
		ts_report "$1" success "$TS_RC" "$TS_MESSAGE"
		return 0
	fi
	step_failed "Step $1 of $TS_M" "$ts_name${TS_RC:+ (exit $TS_RC)}${TS_CODE:+ ($TS_CODE)}"
	[ -n "$TS_CODE" ] && screen_note "$TS_MESSAGE"
	eval "S$1_code=\$TS_CODE"
	ts_report "$1" failure "$TS_RC" "$TS_MESSAGE"
	TS_FAILED=$((TS_FAILED + 1))
	[ "$(ts_field "$1" coe)" = 1 ] || ts_fail_up "$1"
}

# ts_setup [ANSWER]: the engine's state from the policy answer, or from stand-alone media
# (SA_OPEN, lib/standalone.sh); false when the answer carries no steps.
ts_setup() {
	[ -n "${SA_OPEN-}" ] || grep -q '"steps":"' "$1" 2>/dev/null || return 1
	rm -rf "$TS_DIR"
	mkdir -p "$TS_DIR" && chmod 700 "$TS_DIR"
	: >"$TS_DIR/secrets"
	TS_LOG=$TS_DIR/engine.log TS_QUEUE=$TS_DIR/queue
	: >"$TS_LOG"
	: >"$TS_QUEUE"
	: >"$TS_DIR/events.jsonl"
	TS_SEQ=0 TS_FAILED=0 TS_OPEN="" TS_STOP="" TS_MP_DOWN="" TS_RESTART="" TS_DISK="" TS_IMAGE_ROOT=""
	# This run of the deployment: the MP keeps each run's events and log apart, so a computer
	# that runs the same deployment again (re-imaged) is stored again, not a duplicate.
	TS_RUN=$(openssl rand -hex 8)
	TS_MAC=${BM_CLIENT_MAC-$(cat "/sys/class/net/${MP_NIC:-eth0}/address" 2>/dev/null)}
	if [ -n "${SA_OPEN-}" ]; then
		# Stand-alone media: the program is the media's (checked by standalone_open), the
		# deployment is the media, the computer's name the variables' (else MININT-…).
		TS_MP="" TS_ID=$BM_TASK_SEQUENCE TS_DEPLOYMENT=$BM_MEDIA_ID TS_COMPUTER=$(sa_default_name) ts_type=FullMedia
		cp "$SA_RUN/task-sequence.txt" "$TS_DIR/steps.txt"
	else
		TS_MP=$POLICY_MP ts_type=BootMedia
		TS_ID=$(answer_string taskSequence "$1")
		TS_DEPLOYMENT=$(answer_string deploymentId "$1")
		TS_COMPUTER=$(answer_string computer "$1")
		answer_string steps "$1" | base64 -d >"$TS_DIR/steps.txt" 2>/dev/null
	fi
	# Lowest first: the computer's name by default, the media's variables, the secret ones;
	# the policy's come with the steps (ts_load), set-variable later, the engine's own last.
	ts_set OSDComputerName "$TS_COMPUTER"
	ts_media_variables
	ts_secret_variables
	ts_load "$TS_DIR/steps.txt" || { step_failed "Task sequence" "the steps could not be read" && fail "task-sequence-unreadable"; }
	[ -n "${SA_OPEN-}" ] && TS_COMPUTER=$TSV_OSDComputerName
	TSV__SMSTSMediaType=$ts_type TSV__SMSTSMachineName=$TS_COMPUTER TSV__SMSTSMacAddresses=$TS_MAC
	TSV__SMSTSPackageID=$TS_ID TSV__SMSTSAdvertID=$TS_DEPLOYMENT TSV__SMSTSMP=$TS_MP
	TSV__SMSTSCurrentActionName="" TSV__SMSTSNextInstructionPointer=0 TSV__SMSTSLastActionRetCode=0
	ts_log "task sequence $TS_ID ($TS_M steps), deployment $TS_DEPLOYMENT, run $TS_RUN, from ${TS_MP:-the media ($ts_type)}"
}

# run_task_sequence: the steps of the policy answer (ask_management_points' POLICY_ANSWER) or of
# stand-alone media (standalone_open), if any.
run_task_sequence() {
	{ [ -n "${POLICY_ANSWER-}" ] || [ -n "${SA_OPEN-}" ]; } && ts_setup "${POLICY_ANSWER-}" || return 0
	screen_ts_start "$TS_ID" "$TS_M"
	i=1
	while [ "$i" -le "$TS_M" ] && [ -z "$TS_STOP" ]; do
		ts_close_groups "$i"
		TS_NEXT=$(($(ts_field "$i" l) + 1))
		if ts_condition "$i"; then
			[ "$(ts_field "$i" t)" = group ] && TS_NEXT=$((i + 1))
			ts_step "$i"
		else
			ts_skip "$i" "$(ts_field "$i" l)" "condition false"
		fi
		ts_step_done
		i=$TS_NEXT
		# The installed system takes over after a restart: later steps do not run here.
		if [ -n "$TS_RESTART" ] && [ -z "$TS_STOP" ]; then
			ts_skip "$i" "$TS_M" "after the restart"
			i=$((TS_M + 1))
		fi
	done
	if [ -n "$TS_STOP" ]; then
		ts_stop_name=$(ts_field "$TS_STOP" n)
		TS_STOP_CODE=$(ts_field "$TS_STOP" code)
		ts_event 0 failure "" "step $TS_STOP failed: $ts_stop_name"
		ts_log "the task sequence failed at step $TS_STOP"
		ts_finish_log
		FAIL_WHY="step $TS_STOP, $ts_stop_name${TS_STOP_CODE:+ ($TS_STOP_CODE)}"
		fail "task-sequence-failed" "\"step\":$TS_STOP,\"name\":$(printf '%s' "$ts_stop_name" | json_text)${TS_STOP_CODE:+,\"code\":\"$TS_STOP_CODE\"}"
	fi
	ts_close_groups $((TS_M + 1))
	ts_event 0 success "" "$TS_M steps, $TS_FAILED failed"
	ts_log "the task sequence ended: $TS_M steps, $TS_FAILED failed"
	ts_finish_log
	say "{\"event\":\"task-sequence-done\",\"steps\":$TS_M,\"failed\":$TS_FAILED}"
	[ -n "$TS_RESTART" ] && ts_restart_now
	READY_LINE="Done: task sequence $TS_ID for $TS_COMPUTER, $TS_M steps, $TS_FAILED failed."
}
