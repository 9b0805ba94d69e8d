# shellcheck shell=bash
# headers.sh - header scenarios of the auth tier (sourced by tests/auth/run.sh):
# forged Authentication-Results removal, Received-SPF off by default and
# on after a SIGHUP reload (which also enforces the spf-permerror rule and
# adds a dkim-fail rule), and a trusted client.

# --- forged Authentication-Results ----------------------------------------------
# Three fields claim our authserv-id (exact, another case behind a
# comment, folded); two belong to others, one of them with our id as a
# mere prefix. Ours must go, theirs must stay, and ours must be added.
auth_msg "$W/ar-forged.eml" ar-forged alice@softfail.test \
	"Authentication-Results: $AUTHSERV; spf=pass smtp.mailfrom=forged1@softfail.test" \
	"Authentication-Results: relay.other.test; spf=pass smtp.mailfrom=kept1@relay.other.test" \
	"Authentication-Results: (looks innocent) MX.Auth.TEST; dkim=pass header.d=forged2.test" \
	"Authentication-Results: $AUTHSERV.evil.test; dkim=pass header.d=kept2.test" \
	"Authentication-Results: $AUTHSERV;"$'\r\n\t'"dkim=pass header.d=forged3.test"
auth_case ar-forged 192.0.2.200 ar-forged@softfail.test "$W/ar-forged.eml" 0 "$ACC" \
	"spf=softfail .*$ACCEPT" "$(auth_ar_spf softfail ar-forged@softfail.test)"
if [[ -n $DELIVERED ]]; then
	ars=$(auth_hdr "$DELIVERED" Authentication-Results)
	t_expect_nomatch "$ars" 'forged[123]' "ar-forged: the three forged fields are gone"
	t_expect_match "$ars" $'(^|\n)relay\\.other\\.test; spf=pass smtp\\.mailfrom=kept1@relay\\.other\\.test(\n|$)' \
		"ar-forged: another authserv-id's field is kept as it was"
	t_expect_match "$ars" $'(^|\n)mx\\.auth\\.test\\.evil\\.test; dkim=pass header\\.d=kept2\\.test(\n|$)' \
		"ar-forged: a field whose id merely starts with ours is kept"
	t_expect_eq "$(grep -ciE "^${AUTHSERV//./\\.}( |;)" <<<"$ars")" 1 "ar-forged: exactly one field with our authserv-id (ours)"
	t_expect_eq "$(wc -l <<<"$ars")" 3 "ar-forged: three Authentication-Results in all"
	t_expect_eq "$(grep -c "$SW_QID: removed forged Authentication-Results header #[0-9]* (claims authserv-id $AUTHSERV)" "$MXG_LOG")" 3 \
		"ar-forged: each removal is logged with the queue id"
fi

# an honest message carries no forgery to remove and keeps its own fields
auth_msg "$W/ar-plain.eml" ar-plain alice@pass.test \
	"Authentication-Results: relay.other.test; dkim=none"
auth_case ar-plain 192.0.2.5 ar-plain@pass.test "$W/ar-plain.eml" 0 "$ACC" "spf=pass .*$ACCEPT" "$(auth_ar_spf pass ar-plain@pass.test)"
if [[ -n $DELIVERED ]]; then
	ars=$(auth_hdr "$DELIVERED" Authentication-Results)
	t_expect_match "$ars" $'(^|\n)relay\\.other\\.test; dkim=none(\n|$)' "ar-plain: the relay's field is kept"
	t_expect_eq "$(wc -l <<<"$ars")" 2 "ar-plain: its field and ours"
	t_expect_eq "$(auth_hdr "$DELIVERED" Received-SPF)" "" "ar-plain: no Received-SPF while add_received_spf = no"
fi

# --- a trusted client is not checked ---------------------------------------------------
# its sender domain does not exist: any check would refuse it
auth_msg "$W/trusted.eml" trusted alice@untrusted-nx.test
auth_case trusted 10.99.1.1 trusted@untrusted-nx.test "$W/trusted.eml" 0 "$ACC" \
	'client_ip=10\.99\.1\.1 .*trusted=yes .*mx=skipped .*rule=trusted action=accept'
t_expect_eq "$(grep -c 'untrusted-nx' "$DNS_LOG")" 0 "trusted: no DNS asked about its domain"

# --- reload: Received-SPF on, spf-permerror enforced, a dkim-fail rule added -------------
reloads=$(grep -c 'reloaded configuration' "$MXG_LOG")
EXTRA_RULE='rule dkim-fail dkim in {fail, permerror} reject 550 5.7.20 "DKIM signature of %{from_domain} did not verify"' \
	SED_RULES='s/ is broken" dry_run$/ is broken"/' write_conf "add_received_spf = yes"
auth_assert "reload: the shipped spf-permerror rule, without dry_run" grep -q 'is broken"$' "$CONF"
kill -HUP "$MXG_PID"
for ((i = 0; i < 100; i++)); do
	[[ $(grep -c 'reloaded configuration' "$MXG_LOG") -gt $reloads ]] && break
	sleep 0.05
done
t_expect_match "$(tail -n 3 "$MXG_LOG")" 'reloaded configuration' "reload: SIGHUP took the new configuration"

# rspf_case ID IP DOMAIN RESULT - accepted, with the Received-SPF it must carry
rspf_case() {
	local id=$1 ip=$2 dom=$3 result=$4 r
	auth_msg "$W/$id.eml" "$id" "alice@$dom"
	auth_case "$id" "$ip" "$id@$dom" "$W/$id.eml" 0 "$ACC" "spf=$result .*$ACCEPT" \
		"$(auth_ar_spf "$result" "$id@$dom")"
	[[ -n $DELIVERED ]] || return 0
	r=$(auth_hdr "$DELIVERED" Received-SPF)
	t_expect_match "$r" "^$result \(${AUTHSERV//./\\.}: .*\) client-ip=${ip//./\\.}; envelope-from=\"$id@${dom//./\\.}\"; helo=client\.auth\.test; receiver=${AUTHSERV//./\\.}; identity=mailfrom;$" \
		"$id: Received-SPF"
}
rspf_case rspf-pass 192.0.2.5 pass.test pass
rspf_case rspf-softfail 192.0.2.200 softfail.test softfail
rspf_case rspf-none 192.0.2.5 nospf.test none

auth_msg "$W/perm-enforced.eml" perm-enforced alice@perm.test
auth_case perm-enforced 192.0.2.5 perm-enforced@perm.test "$W/perm-enforced.eml" 26 \
	'^550 5\.7\.24 SPF record of perm\.test is broken$' \
	'spf=permerror .*rule=spf-permerror action=reject reply="550 5\.7\.24 SPF record of perm\.test is broken" dry_run=no stage=eom'

auth_msg "$W/dkim-enforced.eml" dkim-enforced alice@dkim.test
auth_sign "$W/dkim-enforced.eml" "$W/dkim-enforced.eml" "$W/rsa2048.private" rsa2048 dkim.test
sed -i 's/It ends here\./It ends HERE./' "$W/dkim-enforced.eml"
auth_case dkim-enforced 192.0.2.5 dkim-enforced@dkim.test "$W/dkim-enforced.eml" 26 \
	'^550 5\.7\.20 DKIM signature of dkim\.test did not verify$' \
	'spf=pass .*dkim=fail dkim_aligned=no .*rule=dkim-fail action=reject reply="550 5\.7\.20 DKIM signature of dkim\.test did not verify" dry_run=no stage=eom'
