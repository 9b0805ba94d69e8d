#!/usr/bin/env bash
# install-deps.sh - install exactly the Debian packages mxguard needs that are missing.
# Build: libmilter, c-ares, libspf2, libopendkim, libidn2, libpsl, cmocka.
# Tests: postfix, swaks, miltertest, a DNS server library (python3-dnslib), nsd (benchmarks),
# the independent signers/checkers (python3-dkim, python3-spf, opendkim),
# sendmail-cf (m4 only: the review tier builds a sendmail.cf from contrib/sendmail.mc);
# quality tier: cppcheck, clang with libFuzzer and the sanitizer runtimes.
set -euo pipefail

packages=(
	build-essential pkg-config
	libmilter-dev libc-ares-dev libspf2-dev libopendkim-dev libidn2-dev libpsl-dev
	publicsuffix libcmocka-dev
	postfix swaks miltertest python3 python3-dnslib python3-dkim python3-spf python3-yaml
	opendkim opendkim-tools dnsutils procps iproute2 cppcheck strace sendmail-cf nsd
	clang libclang-rt-14-dev
	# dnssec tier: a validating resolver (unbound) and a zone signer (ldns-keygen, ldns-signzone)
	unbound ldnsutils
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: missing packages and not root; run: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
