# shellcheck shell=bash
# lib.sh - helpers of the auth tier (bash, sourced by tests/auth/run.sh
# after tests/lib/common.sh and tests/lib/postfix.sh).
#
#   auth_msg FILE ID FROM [FIELD...]   a CRLF message: From/To/Subject/Date/
#                                      Message-ID <ID@auth.test>, extra
#                                      fields, a short body
#   auth_sign IN OUT KEY SEL DOM [sign.py options]   dkimpy signature on top
#   auth_send ID IP SENDER FILE [PORT] swaks through Postfix (XCLIENT ADDR=IP
#                                      unless IP is empty; IPv6 as IPV6:addr)
#                                      saying EHLO $AUTH_HELO; sets SW_RC (swaks
#                                      exit: 0 sent, 23 MAIL, 24 RCPT, 25 DATA,
#                                      26 after the dot), SW_REPLY (the reply
#                                      that decided), SW_QID, SW_OUT
#   auth_delivered ID                  the sink's file for Message-ID ID
#                                      (waits up to 15 s); "" when none came
#   auth_hdr FILE NAME                 NAME's values, unfolded, one a line
#   auth_logline SENDER [IP]           mxguard's decision line(s) for SENDER
#   auth_assert DESC CMD...            pass when CMD succeeds
#   auth_ar_spf RESULT ADDR [REST_RE]  regex: our A-R opening with the mx
#                                      comment and spf=RESULT for MAIL FROM
#                                      ADDR, then REST_RE (default: ; or end)
#   auth_case ID IP SENDER FILE RC REPLY_RE LOG_RE [AR_RE]
#                                      send, then assert the reply, the
#                                      decision line (and, for a delivered
#                                      message, its Authentication-Results);
#                                      sets DELIVERED to the sink file
#
# Every message of the tier has its own ID; the sender is ID@domain, so the
# decision line and the delivered file of each are found by name. Assertion
# helpers run in the tier's shell (never in $(...)) so the counters add up.

AUTH_RCPT_DOMAIN=${PF_RCPT_DOMAIN:-rcpt.test}
AUTH_REJECTED=()
AUTH_HELO=client.auth.test

# auth_msg - write a small CRLF message with a unique Message-ID.
auth_msg() {
	local f=$1 id=$2 from=$3
	shift 3
	printf '%s\r\n' \
		"From: Sender <$from>" \
		"To: <rcpt@$AUTH_RCPT_DOMAIN>" \
		"Subject: auth tier $id" \
		"Date: Mon, 01 Jan 2024 10:00:00 +0000" \
		"Message-ID: <$id@auth.test>" \
		"$@" \
		"" \
		"Hello," \
		"this is message $id, with  double spaces." \
		"It ends here." >"$f"
}

# auth_sign - add a dkimpy (python3-dkim) signature, via the dkim tier's signer.
auth_sign() {
	local in=$1 out=$2 key=$3 sel=$4 dom=$5
	shift 5
	"$T_PY" tests/dkim/sign.py --key "$key" --selector "$sel" --domain "$dom" "$@" \
		"$in" "$out" 2>>"$T_BASE/sign.log"
}

# auth_send - one SMTP transaction with swaks; the outcome in SW_*.
auth_send() {
	local id=$1 ip=$2 sender=$3 file=$4 port=${5:-$PF_PORT} xc=()
	[[ -n $ip ]] && xc=(--xclient-addr "$ip")
	SW_OUT=$(swaks --server 127.0.0.1 --port "$port" --helo "$AUTH_HELO" "${xc[@]}" \
		--from "${sender:-<>}" --to "$id@$AUTH_RCPT_DOMAIN" --data "@$file" \
		--timeout 60 2>&1 </dev/null)
	SW_RC=$?
	if [[ $SW_RC -eq 0 ]]; then
		SW_REPLY=$(grep -E '^<- +250 .*queued as' <<<"$SW_OUT" | tail -n 1 | sed -E 's/^<- +//')
	else
		SW_REPLY=$(grep -E '^<\*\* ' <<<"$SW_OUT" | head -n 1 | sed -E 's/^<\*\* +//')
		AUTH_REJECTED+=("$id")
	fi
	SW_QID=$(sed -nE 's/.*queued as ([0-9A-Za-z]+).*/\1/p' <<<"$SW_REPLY")
}

# auth_delivered - the sink file holding Message-ID <ID@auth.test>.
auth_delivered() {
	local id=$1 i f
	for ((i = 0; i < 300; i++)); do
		f=$(grep -lF "<$id@auth.test>" "$PF_SINK_DIR"/msg-* 2>/dev/null | head -n 1)
		[[ -n $f ]] && { echo "$f"; return 0; }
		sleep 0.05
	done
	return 1
}

# auth_hdr - a header field's values from a stored message.
auth_hdr() {
	"$T_PY" tests/auth/msg.py hdr "$1" "$2"
}

# auth_logline SENDER [IP] - mxguard's decision lines for a sender (and client).
auth_logline() {
	grep -F "sender=<$1>" "$MXG_LOG" | grep -F "client_ip=${2:-}"
}

# auth_assert - count DESC as passed when the command succeeds.
auth_assert() {
	local desc=$1
	shift
	if "$@"; then t_ok "$desc"; else t_fail "$desc"; fi
}

# auth_ar_spf - the opening of our Authentication-Results, as a regex.
auth_ar_spf() {
	local id=${AUTHSERV//./\\.} addr=${2//./\\.}
	echo "^$id \\(mx=valid\\); spf=$1 (\\([^;]*\\) )?smtp\\.mailfrom=$addr${3:-(;|\$)}"
}

# auth_expect_reply DESC RC REGEX - the last auth_send ended so.
auth_expect_reply() {
	if [[ $SW_RC -eq $2 && $SW_REPLY =~ $3 ]]; then
		t_ok "$1"
	else
		t_fail "$1" "swaks exit $SW_RC (want $2), reply: $SW_REPLY
want reply: $3
$(grep -E '^(<-|<\*\*|\*\*\*)' <<<"$SW_OUT" | tail -n 6)"
	fi
}

# auth_case - one scenario: reply, decision line, Authentication-Results.
auth_case() {
	local id=$1 ip=$2 sender=$3 file=$4 rc=$5 reply_re=$6 log_re=$7 ar_re=${8:-} log
	auth_send "$id" "$ip" "$sender" "$file"
	auth_expect_reply "$id: SMTP reply" "$rc" "$reply_re"
	log=$(auth_logline "$sender" "${ip#IPV6:} ")
	if [[ -n $SW_QID && $log == *" stage=eom "* ]]; then
		# Postfix's queue id on the line proves it is this message's (at
		# RCPT there is no queue file yet: smtpd_delay_open_until_valid_rcpt)
		t_expect_match "$log" "^queue_id=$SW_QID .*$log_re" "$id: decision line"
	else
		t_expect_match "$log" "$log_re" "$id: decision line"
	fi
	DELIVERED=
	[[ -z $ar_re ]] && return 0
	if [[ $SW_RC -ne 0 ]] || ! DELIVERED=$(auth_delivered "$id"); then
		t_fail "$id: delivered with Authentication-Results" "no message <$id@auth.test> in the sink"
		return 0
	fi
	t_expect_match "$(auth_hdr "$DELIVERED" Authentication-Results)" "$ar_re" \
		"$id: Authentication-Results"
}

# auth_none_delivered - no refused message reached the sink (checked once, at the end).
auth_none_delivered() {
	local id leaked=()
	for id in "${AUTH_REJECTED[@]}"; do
		grep -qF "<$id@auth.test>" "$PF_SINK_DIR"/msg-* 2>/dev/null && leaked+=("$id")
	done
	t_expect_eq "${leaked[*]}" "" "none of the ${#AUTH_REJECTED[@]} refused messages was delivered"
}
