/*
 * Fuzz target: a backup's reading of IPVS sync messages (include/xvs/sync.h, common/sync.c),
 * as the dataplane's main lcore reads every datagram that reaches the sync socket.
 *
 * Input: the backup's syncid (one byte, 0 = any), then the datagram.
 *
 * What must hold: the reader stays inside the datagram (it is copied to a buffer of exactly
 * its size, so a read past it is an ASan report); a refusal names a reason; every entry it
 * hands over has a family, a known protocol and a state within it (or is a template); and
 * the entries it hands over, built again into messages by the master's builder, read back
 * as the same entries, with the same sequence options.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xvs/sync.h"

struct got {
	struct xvs_sync_conn c;
	struct xvs_sync_seq seq;
	int has_seq;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct got got[256];
	static uint8_t out[65535];
	if (size < 1 || size > 65536)
		return 0;
	uint8_t syncid = data[0];
	size_t len = size - 1;
	uint8_t *buf = malloc(len ? len : 1);
	memcpy(buf, data + 1, len);

	struct xvs_sync_reader r;
	enum xvs_sync_err why = xvs_sync_read_init(&r, buf, len, syncid);
	unsigned nb = 0;
	if (why == XVS_SYNC_OK) {
		struct got g;
		int rc;
		while ((rc = xvs_sync_read_next(&r, &g.c, &g.seq, &g.has_seq, &why)) > 0) {
			if (why != XVS_SYNC_OK) {
				if (xvs_sync_err_fatal(why) || why >= XVS_SYNC_E_MAX)
					abort(); /* a skipped entry has an entry's reason */
				continue;
			}
			if (g.c.af != XVS_AF_INET && g.c.af != XVS_AF_INET6)
				abort();
			if (!(g.c.flags & XVS_SYNC_F_TEMPLATE) &&
			    !((g.c.proto == 6 && g.c.state < XVS_SYNC_TCP_STATES) ||
			      (g.c.proto == 17 && g.c.state < XVS_SYNC_UDP_STATES) ||
			      (g.c.proto == 132 && g.c.state < XVS_SYNC_SCTP_STATES)))
				abort();
			if (nb >= 256)
				abort(); /* nr_conns is one byte */
			got[nb++] = g;
		}
		if (rc < 0 && !xvs_sync_err_fatal(why))
			abort();
	} else if (!xvs_sync_err_fatal(why)) {
		abort();
	}
	free(buf);

	/* the builder's messages of what was accepted read back the same */
	unsigned i = 0;
	while (i < nb) {
		struct xvs_sync_builder b;
		unsigned first = i;
		xvs_sync_build_init(&b, out, sizeof(out), syncid);
		while (i < nb && xvs_sync_build_add(&b, &got[i].c, got[i].has_seq ? &got[i].seq : NULL) == 0)
			i++;
		if (i == first)
			abort(); /* an empty message holds any one entry */
		struct xvs_sync_reader rr;
		if (xvs_sync_read_init(&rr, out, b.len, syncid) != XVS_SYNC_OK)
			abort();
		for (unsigned k = first; k < i; k++) {
			struct got g;
			if (xvs_sync_read_next(&rr, &g.c, &g.seq, &g.has_seq, &why) != 1 ||
			    why != XVS_SYNC_OK || g.has_seq != got[k].has_seq ||
			    memcmp(&g.c, &got[k].c, sizeof(g.c)) != 0 ||
			    (g.has_seq && memcmp(&g.seq, &got[k].seq, sizeof(g.seq)) != 0))
				abort();
		}
		struct got g;
		if (xvs_sync_read_next(&rr, &g.c, &g.seq, &g.has_seq, &why) != 0)
			abort();
	}
	return 0;
}
