/*
 * xvsadm -L --stats --drops (xvs's own): the dataplane's drop counters by reason and worker,
 * printed after the --stats table (docs/xvsadm.md, "Drop counters").
 */
#ifndef XVSADM_DROPS_H
#define XVSADM_DROPS_H

#include <jansson.h>
#include <stdio.h>

/*
 * Print the section from a GET /v1/stats?per_worker=1 document: a blank line, a title, then
 * one line per drop reason (every reason, in xvs/drop.h order, zeros included) with the
 * total, each worker's count and the main lcore's. Numbers as --stats prints them (fmt's
 * XVSADM_FMT_EXACT applies). Returns 0, or -EPROTO when the document lacks the counters.
 */
int xvs_xvsadm_print_drops(FILE *f, const json_t *stats, unsigned int fmt);

#endif
