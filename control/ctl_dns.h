/*
 * DNS wire format for DNS_CHECK: the query it sends and the test an answer must pass. Pure;
 * control only.
 */
#ifndef XVS_CTL_DNS_H
#define XVS_CTL_DNS_H

#include <stddef.h>
#include <stdint.h>

#define XVS_DNS_MSG_MAX 512 /* a query, and the largest answer read (plain DNS over UDP) */

/*
 * A standard query (recursion desired, one question of class IN) for name ("." = the root)
 * and type, with id. Returns its length, or -EINVAL when the name does not fit.
 */
int xvs_dns_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type);

enum xvs_dns_verdict {
	XVS_DNS_ANSWER = 0,  /* a well-formed answer to our query with RCODE 0 */
	XVS_DNS_FOREIGN,     /* not an answer to our query (too short, another id, a query):
			      * ignored, the check goes on waiting */
	XVS_DNS_BAD,         /* our answer, but an error RCODE or malformed: the check fails */
};

/*
 * Judge reply (rlen bytes) against query (qlen bytes, as xvs_dns_query made it): the id, the
 * QR bit, opcode 0, RCODE 0, the question echoed, and every record of the answer, authority
 * and additional sections inside the message (names with bounded compression). why gets
 * the reason for anything but an answer.
 */
enum xvs_dns_verdict xvs_dns_judge(const uint8_t *query, size_t qlen, const uint8_t *reply,
				   size_t rlen, char *why, size_t whylen);

#endif
