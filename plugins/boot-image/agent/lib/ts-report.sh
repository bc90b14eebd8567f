# shellcheck shell=sh
# Sourced by /init. How the task-sequence engine (lib/ts.sh) reports: a marker per step state on
# the serial line, an event per state to the management point that gave the policy
# (POST /bootmedia/v1/status through /bin/bootmedia-mp, signed like the policy request), and
# the engine's log, uploaded at the end (POST /bootmedia/v1/log). An MP that does not answer
# never stops the deployment: events wait in a queue file, in order, and are sent again after
# the next step and at the end; what is still unsent then goes into the log. Stand-alone media
# have no MP: the events and the log go to the media's log folder (lib/standalone.sh).
# Everything here is already redacted: step output passes ts_redact before it is kept.

# At most this many bytes of log reach the MP (the protocol's limit is 512 KiB).
TS_LOG_MAX=520000
# Progress events one step may post; more progress lines still show on the screen.
TS_PROGRESS_POSTS=50

# ts_log TEXT: one line of the engine's log, with the time.
ts_log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >>"$TS_LOG"; }

# ts_mp KIND FILE: one status or log post to the MP that gave the policy (bootmedia-mp.sh's
# exit: 0 accepted or duplicate, 6 refused, 7 no answer). The media key reaches the client
# through its environment only, in a subshell, as for the policy request.
ts_mp() {
	(
		export BM_MEDIA_KEY BM_MP_CA BM_CLIENT_MAC
		BM_CLIENT_MAC=$TS_MAC BM_DEPLOYMENT_ID=$TS_DEPLOYMENT BM_RUN=$TS_RUN BM_MEDIA_CERT="$MEDIA/bootmedia/media.crt" BM_NIC=${MP_NIC:-eth0} \
			exec "$MP_AGENT" "$1" "$TS_MP" "$2"
	) </dev/null >"$TS_DIR/mp-answer" 2>/dev/null
}

# ts_flush: sends the queued events in order; stops at the first the MP does not answer
# (it and the rest stay queued). Refused events are dropped, with a line in the log.
ts_flush() {
	[ -z "${SA_OPEN-}" ] || { sa_events && return 0; }
	[ -s "$TS_QUEUE" ] || return 0
	: >"$TS_QUEUE.rest"
	ts_down=""
	while IFS= read -r ts_ev; do
		if [ -z "$ts_down" ]; then
			printf '%s\n' "$ts_ev" >"$TS_DIR/event.json"
			ts_mp status "$TS_DIR/event.json"
			case $? in
				0) continue ;;
				6) ts_log "the management point refused an event: $(cat "$TS_DIR/mp-answer") $ts_ev" && continue ;;
				*) ts_down=1 ;;
			esac
		fi
		printf '%s\n' "$ts_ev" >>"$TS_QUEUE.rest"
	done <"$TS_QUEUE"
	mv "$TS_QUEUE.rest" "$TS_QUEUE"
	[ -z "$ts_down" ]
}

# ts_event STEP STATE [EXIT [MESSAGE]]: queues one status event (seq 1, 2, ... in this run) and
# sends the queue, unless the MP already failed to answer during this step (ts_step_done
# tries again). STEP 0 is the task sequence as a whole.
ts_event() {
	TS_SEQ=$((TS_SEQ + 1))
	if [ "$1" -eq 0 ]; then ts_ev_name=$TS_ID; else ts_ev_name=$(ts_field "$1" n); fi
	{
		printf '{"v":1,"mac":%s,"deploymentId":%s,"run":"%s","seq":%s,"step":%s,"of":%s,"name":%s,"state":"%s"' \
			"$(json_str "$TS_MAC")" "$(json_str "$TS_DEPLOYMENT")" "$TS_RUN" "$TS_SEQ" "$1" "$TS_M" "$(printf '%s' "$ts_ev_name" | json_text)" "$2"
		[ -n "${3-}" ] && printf ',"exitCode":%s' "$3"
		[ -n "${4-}" ] && printf ',"message":%s' "$(printf '%s' "$4" | json_text)"
		printf '}\n'
	} >>"$TS_QUEUE"
	[ -n "$TS_MP_DOWN" ] || ts_flush || TS_MP_DOWN=1
}

# ts_step_done: after each step, an MP that did not answer is asked again.
ts_step_done() {
	# Stand-alone media: the events and the log so far onto USB media (lib/standalone.sh).
	[ -z "${SA_OPEN-}" ] || { sa_events && sa_save_log; return 0; }
	TS_MP_DOWN=""
	ts_flush || TS_MP_DOWN=1
}

# ts_mark STEP STATE [EXIT]: the step marker on the serial line.
ts_mark() {
	say "{\"event\":\"step\",\"index\":$1,\"of\":$TS_M,\"name\":$(ts_field "$1" n | json_text),\"type\":\"$(ts_field "$1" t)\",\"state\":\"$2\"${3:+,\"exitCode\":$3}}"
}

# ts_report STEP STATE [EXIT [MESSAGE]]: marker, log line and event of one step state; a
# failure's log line carries its message (with the code), as the event does.
ts_report() {
	ts_mark "$1" "$2" "${3-}"
	ts_why=""
	[ "$2" = failure ] && ts_why=${4-}
	ts_log "step $1/$TS_M $(ts_field "$1" t) \"$(ts_field "$1" n)\": $2${3:+ (exit $3)}${ts_why:+: $ts_why}"
	ts_event "$@"
}

# ts_finish_log: the last try to send the queue, what stays unsent into the log, and the log
# to the MP (its last TS_LOG_MAX bytes when longer).
ts_finish_log() {
	[ -z "${SA_OPEN-}" ] || { TS_LOG_SENT="" && sa_finish_log; return 0; }
	ts_flush
	if [ -s "$TS_QUEUE" ]; then
		ts_log "$(wc -l <"$TS_QUEUE") events could not be sent to the management point $TS_MP:"
		cat "$TS_QUEUE" >>"$TS_LOG"
		step_failed "Status to the management point" "$(wc -l <"$TS_QUEUE") events unsent (in the log)"
	fi
	if [ "$(wc -c <"$TS_LOG")" -gt "$TS_LOG_MAX" ]; then
		{ echo "[the log's start was cut: it is longer than $TS_LOG_MAX bytes]"; tail -c "$TS_LOG_MAX" "$TS_LOG"; } >"$TS_LOG.sent"
	else
		cp "$TS_LOG" "$TS_LOG.sent"
	fi
	TS_LOG_SENT=""
	if ts_mp log "$TS_LOG.sent"; then
		TS_LOG_SENT=1
		step_ok "Log to the management point" "$(wc -c <"$TS_LOG.sent") bytes"
	else
		step_failed "Log to the management point" "not sent"
	fi
}
