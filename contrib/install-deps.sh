#!/usr/bin/env bash
# install-deps.sh - install exactly the Debian packages mxguard needs that are missing.
#
#   install-deps.sh build          to build and run (make deps, make run, make)
#   install-deps.sh build test     ... and to test (make test-deps, make test,
#                                  make demo, make bench)
#   install-deps.sh --check SET..  only say what is missing and how to install it
#                                  (exit 1 if anything is)
#
# build: the compiler, pkg-config, the -dev libraries (libmilter, c-ares,
#   libspf2, libopendkim, libidn2, libpsl, zlib for `mxguard replay`'s .gz
#   logs, cmocka for the unit tests), the public suffix list.
# test: postfix, swaks, miltertest, a DNS server library (python3-dnslib),
#   nsd (benchmarks), the independent signers/checkers (python3-dkim,
#   python3-spf, opendkim), sendmail-cf (m4 only: the review tier builds a
#   sendmail.cf from contrib/sendmail.mc), m4 (the sendmail tier builds its
#   sendmail.cf with the m4 files of the Sendmail packages it fetches with
#   apt-get download: never installed, sendmail-bin conflicts with postfix),
#   groff-base (man pages), unbound
#   and ldnsutils (the dnssec tier's validating resolver and zone signer),
#   opendmarc (the opendmarc tier's reference DMARC milter),
#   postfix-policyd-spf-python (make bench: the peer stack's SPF policy),
#   jq (make bench: the yardstick of mxguard replay's speed);
#   curl and prometheus (the metrics tier: a scrape, promtool check metrics
#   and check rules);
#   quality tier: cppcheck, clang with libFuzzer and the sanitizer runtimes.
#
# The test packages bring services (postfix, nsd, opendkim, opendmarc) the tests never
# use: they start their own private instances. So no service starts while
# installing (a policy-rc.d that answers 101 "action forbidden", in place
# only for the apt-get run; an existing one is put aside and put back), and
# every service the install enabled at boot is disabled afterwards (and
# stopped, were it running). Packages that were already installed are left
# as they are.
#
# Not root: prints the command to run as root (su, no sudo needed).
set -euo pipefail

build_pkgs=(
	build-essential pkg-config
	libmilter-dev libc-ares-dev libspf2-dev libopendkim-dev libidn2-dev libpsl-dev zlib1g-dev
	libcmocka-dev publicsuffix
)
test_pkgs=(
	postfix swaks miltertest python3 python3-dnslib python3-dkim python3-spf python3-yaml
	opendkim opendkim-tools dnsutils procps iproute2 cppcheck strace sendmail-cf m4 nsd
	clang libclang-rt-14-dev groff-base
	# dnssec tier: a validating resolver (unbound) and a zone signer (ldns-keygen, ldns-signzone)
	unbound ldnsutils
	# opendmarc tier: Debian's OpenDMARC milter, compared with mxguard's DMARC;
	# dbconfig-no-thanks first, or apt picks its dbconfig-mysql alternative (a
	# MariaDB client, and a database set-up that fails without a server)
	dbconfig-no-thanks opendmarc
	# make bench: the peer stack's SPF policy service (Postfix spawns it), and
	# jq, the yardstick of mxguard replay's speed
	postfix-policyd-spf-python jq
	# metrics tier: curl scrapes the endpoint, promtool (package prometheus,
	# ~100 MB: the Prometheus server comes with it, never started) checks the
	# scrape's format and contrib/mxguard-alerts.yml
	curl prometheus
)
# Tests point this elsewhere, so they never touch the machine's own.
POLICY_RC_D=${MXGUARD_POLICY_RC_D:-/usr/sbin/policy-rc.d}

check=0 sets=()
for a in "$@"; do
	case $a in
	--check) check=1 ;;
	build | test) sets+=("$a") ;;
	*) echo "usage: install-deps.sh [--check] build [test]" >&2; exit 64 ;;
	esac
done
[[ ${#sets[@]} -eq 0 ]] && sets=(build)

packages=()
for s in "${sets[@]}"; do
	case $s in
	build) packages+=("${build_pkgs[@]}") ;;
	test) packages+=("${test_pkgs[@]}") ;;
	esac
done

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

PRESEED="echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections"
# how - the commands that install what is missing, as root
how() {
	local target=${MAKE_TARGET:-}
	if [[ -z $target ]]; then
		[[ " ${sets[*]} " == *" test "* ]] && target=test-deps || target=deps
	fi
	echo "  as root (no sudo needed):  su -c 'make -C $(cd "$(dirname "$0")/.." && pwd) $target'"
	echo "  or by hand, as root (this starts the services the packages bring; make $target does not):"
	# Postfix asks about its configuration unless told beforehand.
	[[ " ${missing[*]} " == *" postfix "* ]] && echo "    $PRESEED"
	echo "    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
}

if [[ $check -eq 1 ]]; then
	echo "mxguard: missing Debian packages: ${missing[*]}" >&2
	how >&2
	exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: missing packages and not root: ${missing[*]}" >&2
	how >&2
	exit 1
fi

# enabled_services - what starts at boot: systemd units wanted by a target
# (services, sockets, timers) and SysV start links, one per line.
enabled_services() {
	{
		find /etc/systemd/system -path '*.wants/*' \
			\( -name '*.service' -o -name '*.socket' -o -name '*.timer' \) -printf '%f\n' 2>/dev/null
		find /etc/rc[2345].d -name 'S[0-9][0-9]*' -printf 'sysv:%f\n' 2>/dev/null | sed -E 's/^sysv:S[0-9]+/sysv:/'
	} | sort -u
}

echo "install-deps: installing ${missing[*]}" >&2
saved=
restore_policy() {
	rm -f "$POLICY_RC_D"
	[[ -n $saved ]] && mv -f "$saved" "$POLICY_RC_D"
	return 0
}
if [[ -e $POLICY_RC_D ]]; then
	saved=$POLICY_RC_D.mxguard-saved
	mv -f "$POLICY_RC_D" "$saved"
fi
trap restore_policy EXIT
printf '#!/bin/sh\n# install-deps.sh (mxguard): no service starts while it installs\nexit 101\n' >"$POLICY_RC_D"
chmod 755 "$POLICY_RC_D"

before=$(enabled_services)
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
restore_policy
trap - EXIT

# Whatever the install enabled at boot: stop (had it started) and disable.
new=$(comm -13 <(printf '%s\n' "$before") <(enabled_services))
told=" "
for u in $new; do
	name=${u#sysv:}
	name=${name%.service}
	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
		systemctl is-active --quiet "$u" 2>/dev/null && systemctl stop "$u" 2>/dev/null
	elif [[ -x /etc/init.d/$name ]] && [[ $u != *.socket && $u != *.timer ]]; then
		/etc/init.d/"$name" status >/dev/null 2>&1 && /etc/init.d/"$name" stop >/dev/null 2>&1
	fi
	if [[ $u == sysv:* ]]; then
		update-rc.d "$name" disable >/dev/null 2>&1 || true
	elif command -v systemctl >/dev/null; then
		systemctl disable --quiet "$u" 2>/dev/null || true
	fi
	[[ $told == *" $name "* ]] && continue
	told+="$name "
	echo "install-deps: $name: installed for the tests, not started, disabled at boot" >&2
done
exit 0
