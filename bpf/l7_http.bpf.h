/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP/1.x classifier for l7.bpf.c: where a request starts (method line)
 * and where a response starts (status line). A protocol is one such pair
 * of functions over the peeked bytes; adding Redis (RESP: "*N\r\n" request,
 * "+", "-", ":", "$", "*" reply, "-" an error) or PostgreSQL is a new
 * header like this one plus its tests, not a change to the state machine.
 *
 * Every access is masked to the 128-byte peek window so the verifier can
 * bound it; callers pass n, the number of valid bytes in the window.
 */
#ifndef REDLINE_BPF_L7_HTTP_BPF_H
#define REDLINE_BPF_L7_HTTP_BPF_H

#define RL_L7_PEEK 128	    /* bytes read to find pipelined requests */
#define RL_L7_SMALL_PEEK 16 /* bytes read to classify any message */

#define RL_AT(b, i) ((b)[(i) & (RL_L7_PEEK - 1)])

/* The blank line ending a header block at offset i. */
static __always_inline bool http_is_header_end(const char *b, __u32 i)
{
	return RL_AT(b, i) == '\r' && RL_AT(b, i + 1) == '\n' &&
	       RL_AT(b, i + 2) == '\r' && RL_AT(b, i + 3) == '\n';
}

/* The method of a request line starting at off ("GET /x HTTP/1.1"), or
 * RL_HTTP_UNKNOWN (0) if the bytes there do not start one. The target must
 * follow: origin form "/", absolute form "http://", authority form
 * (CONNECT host:port) or asterisk form (OPTIONS *). */
static __always_inline __u8 http_method_at(const char *b, __u32 off, __u32 n)
{
	__u32 len = 0;
	__u8 m = 0;
	char t;

	if (off + 5 > n)
		return 0;
	switch (RL_AT(b, off)) {
	case 'G':
		if (RL_AT(b, off + 1) == 'E' && RL_AT(b, off + 2) == 'T')
			m = RL_HTTP_GET, len = 3;
		break;
	case 'H':
		if (RL_AT(b, off + 1) == 'E' && RL_AT(b, off + 2) == 'A' &&
		    RL_AT(b, off + 3) == 'D')
			m = RL_HTTP_HEAD, len = 4;
		break;
	case 'P':
		if (RL_AT(b, off + 1) == 'O' && RL_AT(b, off + 2) == 'S' &&
		    RL_AT(b, off + 3) == 'T')
			m = RL_HTTP_POST, len = 4;
		else if (RL_AT(b, off + 1) == 'U' && RL_AT(b, off + 2) == 'T')
			m = RL_HTTP_PUT, len = 3;
		else if (RL_AT(b, off + 1) == 'A' && RL_AT(b, off + 2) == 'T' &&
			 RL_AT(b, off + 3) == 'C' && RL_AT(b, off + 4) == 'H')
			m = RL_HTTP_PATCH, len = 5;
		break;
	case 'D':
		if (RL_AT(b, off + 1) == 'E' && RL_AT(b, off + 2) == 'L' &&
		    RL_AT(b, off + 3) == 'E' && RL_AT(b, off + 4) == 'T' &&
		    RL_AT(b, off + 5) == 'E')
			m = RL_HTTP_DELETE, len = 6;
		break;
	case 'C':
		if (RL_AT(b, off + 1) == 'O' && RL_AT(b, off + 2) == 'N' &&
		    RL_AT(b, off + 3) == 'N' && RL_AT(b, off + 4) == 'E' &&
		    RL_AT(b, off + 5) == 'C' && RL_AT(b, off + 6) == 'T')
			m = RL_HTTP_CONNECT, len = 7;
		break;
	case 'O':
		if (RL_AT(b, off + 1) == 'P' && RL_AT(b, off + 2) == 'T' &&
		    RL_AT(b, off + 3) == 'I' && RL_AT(b, off + 4) == 'O' &&
		    RL_AT(b, off + 5) == 'N' && RL_AT(b, off + 6) == 'S')
			m = RL_HTTP_OPTIONS, len = 7;
		break;
	case 'T':
		if (RL_AT(b, off + 1) == 'R' && RL_AT(b, off + 2) == 'A' &&
		    RL_AT(b, off + 3) == 'C' && RL_AT(b, off + 4) == 'E')
			m = RL_HTTP_TRACE, len = 5;
		break;
	}
	if (!m || off + len + 2 > n || RL_AT(b, off + len) != ' ')
		return 0;
	t = RL_AT(b, off + len + 1);
	if (t == '/' || t == '*' || (t >= 'a' && t <= 'z') ||
	    (t >= 'A' && t <= 'Z') || (t >= '0' && t <= '9') || t == '[')
		return m;
	return 0;
}

static __always_inline bool rl_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The status code of a status line ("HTTP/1.1 404 Not Found"), or 0. */
static __always_inline __u32 http_status(const char *b, __u32 n)
{
	__u32 code;

	if (n < 12 || b[0] != 'H' || b[1] != 'T' || b[2] != 'T' ||
	    b[3] != 'P' || b[4] != '/' || b[5] != '1' || b[6] != '.' ||
	    (b[7] != '0' && b[7] != '1') || b[8] != ' ')
		return 0;
	if (!rl_digit(b[9]) || !rl_digit(b[10]) || !rl_digit(b[11]))
		return 0;
	if (n > 12 && b[12] != ' ' && b[12] != '\r')
		return 0;
	code = (b[9] - '0') * 100 + (b[10] - '0') * 10 + (b[11] - '0');
	return code >= 100 && code <= 599 ? code : 0;
}

#endif /* REDLINE_BPF_L7_HTTP_BPF_H */
