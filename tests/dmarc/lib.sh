# shellcheck shell=bash
# lib.sh - helpers of the dmarc tier (bash, sourced by tests/dmarc/run.sh
# after tests/lib/common.sh, postfix.sh and mxconf.sh).
#
#   dm_msg FILE ID FROM [FIELD...]     a CRLF message: "From: FROM", To, Subject
#                                      "dmarc tier ID" (none when DM_SUBJECT=no),
#                                      Date, Message-ID <ID@dmarc.test>, the
#                                      extra FIELDs, a short body
#   dm_sign IN OUT DOMAIN              a dkimpy signature (selector sel, the
#                                      tier's key) on top, d=DOMAIN
#   dm_send ID IP SENDER FILE          swaks through Postfix with XCLIENT
#                                      ADDR=IP, EHLO $DM_HELO, RCPT ID@rcpt
#                                      domain; sets SW_RC (0 sent, 26 refused
#                                      after the dot), SW_REPLY (the reply that
#                                      decided), SW_QID, SW_OUT, SW_MS (wall time)
#   dm_logline ID                      mxguard's decision line(s) for sender
#                                      ID@..., text or JSON; waits up to 3 s
#   dm_delivered ID                    the sink's file holding Message-ID
#                                      <ID@dmarc.test> (waits up to 15 s)
#   dm_hdr FILE NAME                   NAME's values, unfolded, one a line
#   dm_ar FILE METHOD                  the METHOD=... clause of our one
#                                      Authentication-Results field
#   dm_expect_reply DESC RC REGEX      the last dm_send ended so
#   dm_expect_facts DESC LINE "K=V..." the text decision LINE has exactly these
#                                      values (the line is shown when not)
#   dm_case ID IP SENDER FILE RC REPLY_RE "K=V..." [DMARC_AR]
#                                      (SENDER "<>": the decision line is found
#                                      by the queue id of an accepted message)
#                                      send; assert the reply, the decision
#                                      line's facts (naming at least dmarc,
#                                      dmarc_policy, dmarc_domain, rule, action,
#                                      stage) and, with DMARC_AR, that it
#                                      was delivered with Authentication-Results
#                                      whose dmarc clause is exactly DMARC_AR;
#                                      sets LINE and DELIVERED
#   dm_held ID DMARC_AR                the last dm_send's message is in Postfix's
#                                      hold queue (postqueue -p: "QUEUEID!", its
#                                      file in queue/hold) with Authentication-
#                                      Results whose dmarc clause is DMARC_AR,
#                                      and no X-Spam (postcat)
#   dm_reconf [SETTING...]             write the tier's config with these
#                                      settings, SIGHUP mxguard, wait for its
#                                      "reloaded configuration" line
#
# Every message has its own ID; its sender is ID@domain and its recipient
# ID@rcpt domain, so its decision line and delivered file are found by name.
# Assertion helpers run in the tier's shell (never in $(...)).

DM_HELO=client.dmarc.test
DM_REFUSED=()

# dm_msg - write a small CRLF message with a unique Message-ID.
dm_msg() {
	local f=$1 id=$2 from=$3 subj=()
	shift 3
	[[ ${DM_SUBJECT:-yes} == no ]] || subj=("Subject: dmarc tier $id")
	printf '%s\r\n' \
		"From: $from" \
		"To: <$id@$PF_RCPT_DOMAIN>" \
		"${subj[@]}" \
		"Date: Mon, 01 Jan 2024 10:00:00 +0000" \
		"Message-ID: <$id@dmarc.test>" \
		"$@" \
		"" \
		"Hello," \
		"this is message $id of the dmarc tier." >"$f"
}

# dm_sign - add a dkimpy signature with the tier's key, via the dkim tier's signer.
dm_sign() {
	"$T_PY" tests/dkim/sign.py --key "$W/sel.private" --selector sel --domain "$3" \
		"$1" "$2" 2>>"$W/sign.log"
}

# dm_send - one SMTP transaction with swaks; the outcome in SW_*.
dm_send() {
	local id=$1 ip=$2 sender=$3 file=$4 t0
	t0=$(date +%s%N)
	SW_OUT=$(swaks --server 127.0.0.1 --port "$PF_PORT" --helo "$DM_HELO" --xclient-addr "$ip" \
		--from "$sender" --to "$id@$PF_RCPT_DOMAIN" --data "@$file" --timeout 60 2>&1 </dev/null)
	SW_RC=$?
	# shellcheck disable=SC2034 # for the tier's time bounds
	SW_MS=$((($(date +%s%N) - t0) / 1000000))
	if [[ $SW_RC -eq 0 ]]; then
		SW_REPLY=$(grep -E '^<- +250 .*queued as' <<<"$SW_OUT" | tail -n 1 | sed -E 's/^<- +//')
	else
		SW_REPLY=$(grep -E '^<\*\* ' <<<"$SW_OUT" | head -n 1 | sed -E 's/^<\*\* +//')
		DM_REFUSED+=("$id")
	fi
	SW_QID=$(sed -nE 's/.*queued as ([0-9A-Za-z]+).*/\1/p' <<<"$SW_REPLY")
}

# dm_logline - the decision line(s) of the message whose sender is ID@...
dm_logline() {
	t_wait_grep -E "sender=<$1@|\"sender\":\"<$1@" "$MXG_LOG" 3
}

# dm_delivered - the sink file holding Message-ID <ID@dmarc.test>.
dm_delivered() {
	local id=$1 i f
	for ((i = 0; i < 300; i++)); do
		f=$(grep -lF "<$id@dmarc.test>" "$PF_SINK_DIR"/msg-* 2>/dev/null | head -n 1)
		# smtp-sink writes the file as the message comes: wait for its end
		[[ -n $f ]] && grep -qF "message $id of the dmarc tier" "$f" && { echo "$f"; return 0; }
		sleep 0.05
	done
	return 1
}

# dm_hdr - a header field's values from a stored message ("(no message)" without one).
dm_hdr() {
	[[ -n $1 && -f $1 ]] || { echo "(no message)"; return 1; }
	"$T_PY" tests/dmarc/check.py hdr "$1" "$2"
}

# dm_ar - the METHOD clause of our Authentication-Results in a stored message.
dm_ar() {
	[[ -n $1 && -f $1 ]] || { echo "(no message)"; return 1; }
	"$T_PY" tests/dmarc/check.py ar "$1" "$AUTHSERV" "$2"
}

# dm_expect_reply - the last dm_send ended with swaks exit RC and a reply matching REGEX.
dm_expect_reply() {
	if [[ $SW_RC -eq $2 && $SW_REPLY =~ $3 ]]; then
		t_ok "$1"
	else
		t_fail "$1" "swaks exit $SW_RC (want $2), reply: $SW_REPLY
want reply: $3
$(grep -E '^(<-|<\*\*|\*\*\*)' <<<"$SW_OUT" | tail -n 6)"
	fi
}

# dm_expect_facts - the decision line holds exactly these KEY=VALUE pairs.
dm_expect_facts() {
	local desc=$1 line=$2 want=$3 keys got
	keys=$(sed -E 's/=[^ ]*( |$)/ /g' <<<"$want")
	# shellcheck disable=SC2086 # one argument per key
	got=$("$T_PY" tests/dmarc/check.py facts "$line" $keys)
	if [[ -n $line && $(wc -l <<<"$line") -eq 1 && $got == "$want" ]]; then
		t_ok "$desc"
	else
		t_fail "$desc" "got:  $got
want: $want
line: ${line:-(no decision line)}"
	fi
}

# dm_case - one scenario: reply, decision line, delivery and the dmarc clause of A-R.
dm_case() {
	local id=$1 ip=$2 sender=$3 file=$4 rc=$5 reply_re=$6 facts=$7 ar=${8:-} got k
	for k in dmarc dmarc_policy dmarc_domain rule action stage; do
		[[ " $facts" == *" $k="* ]] || t_fail "$id: the case names $k= (a test bug)" "$facts"
	done
	dm_send "$id" "$ip" "$sender" "$file"
	dm_expect_reply "$id: SMTP reply" "$rc" "$reply_re"
	if [[ $sender == "<>" ]]; then
		LINE=$(t_wait_grep -E "^queue_id=${SW_QID:-none} " "$MXG_LOG" 3)
	else
		LINE=$(dm_logline "$id")
	fi
	dm_expect_facts "$id: decision line" "$LINE" "$facts"
	DELIVERED=
	[[ -z $ar ]] && return 0
	if [[ $SW_RC -ne 0 ]] || ! DELIVERED=$(dm_delivered "$id"); then
		t_fail "$id: delivered with Authentication-Results" "no message <$id@dmarc.test> in the sink"
		return 0
	fi
	got=$(dm_ar "$DELIVERED" dmarc)
	t_expect_eq "$got" "$ar" "$id: delivered, Authentication-Results: $ar"
}

# dm_held - the last message sent was put on hold, with our A-R and no X-Spam.
dm_held() {
	local id=$1 ar=$2 qid=${SW_QID:-none} held
	held=$(postqueue -c "$PF_CONF" -p 2>&1)
	t_expect_match "$(grep -E "^$qid!" <<<"$held")" " $id@[a-z.]+\$" "$id: postqueue -p lists it held (QUEUEID!)"
	if [[ -f $PF_DIR/queue/hold/$qid ]]; then
		t_ok "$id: its file is in the hold queue"
	else
		t_fail "$id: its file is in the hold queue" "queue id $qid; hold: $(ls "$PF_DIR/queue/hold")"
	fi
	postcat -c "$PF_CONF" -h -q "$qid" >"$W/$id.held" 2>&1
	t_expect_eq "$(dm_ar "$W/$id.held" dmarc)" "$ar" "$id: held with Authentication-Results: $ar"
	t_expect_eq "$(dm_hdr "$W/$id.held" X-Spam)" "" "$id: hold adds no X-Spam header"
}

# dm_reconf - the tier's config with other settings, taken by a SIGHUP reload.
dm_reconf() {
	local n i got=
	write_conf "$@" || { t_fail "write the config: $*"; return 1; }
	n=$(grep -cE 'reloaded configuration|reload failed' "$MXG_LOG")
	kill -HUP "$MXG_PID"
	for ((i = 0; i < 200; i++)); do
		got=$(grep -E 'reloaded configuration|reload failed' "$MXG_LOG" | sed -n "$((n + 1))p")
		[[ -n $got ]] && break
		sleep 0.05
	done
	t_expect_match "$got" "reloaded configuration" "SIGHUP reload with: $*"
}
