/*
 * msgfile.h - feed a message from a file to the checks the way an MTA
 * feeds a milter: each header as (name, value) with the value exactly as
 * after the colon and folded lines kept (joined by "\r\n"), the end of
 * headers, then the body in chunks with CRLF line ends.
 */
#ifndef MXGUARD_MSGFILE_H
#define MXGUARD_MSGFILE_H

#include <stddef.h>

struct checks;

/*
 * msgfile_feed - read path ("-" = stdin) into ck: headers, advance to
 * CHECK_STAGE_HEADERS, body chunks. Returns 0, or -1 with the reason in err.
 */
int msgfile_feed(struct checks *ck, const char *path, char *err, size_t errlen);

#endif
