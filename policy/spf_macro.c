/*
 * spf_macro.c - work around libspf2's right-hand-part truncation (see
 * spf_guard_macro_clamp in spf_guard.h).
 *
 * libspf2 1.2.10 expands %{d2} by walking back from the end of the value to
 * the 2nd dot; when the value has fewer parts than asked for, the walk stops
 * at the first character and then skips it, so %{d2} of "example.com"
 * becomes "xample.com". RFC 7208 7.3 says "all the available parts are
 * used". Knowing the values before libspf2 expands them, we drop a digit
 * transformer that asks for at least as many parts as the value has: the
 * same meaning, without the bug.
 */
#include <ctype.h>
#include <string.h>

#include "policy/spf_guard.h"

/* mc_parts - how many parts value splits into on the delimiter set. */
static unsigned long mc_parts(const char *value, const char *delims, size_t ndelims)
{
	unsigned long parts = 1;

	for (; *value; value++) {
		if (ndelims ? memchr(delims, *value, ndelims) != NULL : *value == '.')
			parts++;
	}
	return parts;
}

/* spf_guard_macro_clamp - see spf_guard.h. */
long spf_guard_macro_clamp(const char *s, size_t n, const char *const vals[26],
			   char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	while (i < n) {
		size_t start = i, dig, digend, dend, close;
		unsigned long want = 0;
		const char *value = NULL;
		int letter;

		if (s[i] != '%' || i + 1 >= n || s[i + 1] != '{') {
			size_t len = (s[i] == '%' && i + 1 < n) ? 2 : 1;

			if (o + len >= outlen)
				return -1;
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
			continue;
		}
		/* "%{" letter digits ["r"] delimiters "}" (already validated) */
		letter = tolower((unsigned char)(i + 2 < n ? s[i + 2] : 0));
		if (letter >= 'a' && letter <= 'z')
			value = vals[letter - 'a'];
		dig = digend = i + 3;
		while (digend < n && isdigit((unsigned char)s[digend]) && digend - dig < 9) {
			want = want * 10 + (unsigned long)(s[digend] - '0');
			digend++;
		}
		dend = digend < n && (s[digend] == 'r' || s[digend] == 'R') ? digend + 1 : digend;
		close = dend;
		while (close < n && s[close] != '}')
			close++;
		if (close >= n)
			return -1;
		i = close + 1;
		if (o + (i - start) >= outlen)
			return -1;
		if (value && digend > dig && want >= mc_parts(value, s + dend, close - dend)) {
			memcpy(out + o, s + start, dig - start);          /* "%{x" */
			o += dig - start;
			memcpy(out + o, s + digend, i - digend);          /* "r.-}" */
			o += i - digend;
		} else {
			memcpy(out + o, s + start, i - start);
			o += i - start;
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return (long)o;
}
