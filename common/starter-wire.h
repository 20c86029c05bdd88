/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How jobrunnerd and jobrunner-starter talk (proto/starter.proto says what
 * they say).  Both sides include this and nothing else of each other.
 *
 * An AF_UNIX SOCK_SEQPACKET connection, jobrunnerd's, kept open for many
 * requests.  Each request is one packet whose data is exactly
 * STARTER_WIRE_MAGIC and whose SCM_RIGHTS are three descriptors, or four
 * for a job with a stdin pipe, in this order:
 *
 *   0  a memfd holding the serialized StartUnitRequest from offset 0 to its
 *      end, sealed against writing, growing and shrinking (F_SEAL_WRITE,
 *      F_SEAL_GROW, F_SEAL_SHRINK).  A memfd, not the packet's data: a
 *      valid request can be larger than a packet may be (the sender's send
 *      buffer, at most twice net.core.wmem_max without CAP_NET_ADMIN).
 *   1  the write end of the job's stdout pipe; for a terminal job, the
 *      slave of its pseudo-terminal
 *   2  the write end of the job's stderr pipe; for a terminal job, the
 *      same slave again
 *   3  only for a job whose spec has a stdin pipe: its read end
 *
 * Each reply is one packet: STARTER_WIRE_MAGIC, then a serialized
 * StartUnitReply, no descriptors.  The magic first because protobuf may
 * serialize a reply to nothing at all (every field its default), and an
 * empty packet reads as the end of the connection.
 * Replies come in the order of the requests, one for each.  The starter
 * reads a connection's next request only while fewer than
 * STARTER_WIRE_MAX_PENDING of its requests wait for systemd, so a client
 * that sends more simply waits on its full socket. */

#define STARTER_WIRE_SOCKET "/run/jobrunner-starter.sock"
#define STARTER_WIRE_MAGIC "JRS1"
#define STARTER_WIRE_MAGIC_LEN 4
#define STARTER_WIRE_N_FDS 3
#define STARTER_WIRE_N_FDS_MAX 4
#define STARTER_WIRE_FD_REQUEST 0
#define STARTER_WIRE_FD_STDOUT 1
#define STARTER_WIRE_FD_STDERR 2
#define STARTER_WIRE_FD_STDIN 3
#define STARTER_WIRE_MAX_PENDING 16
/* A reply's message is cut to this many bytes, so that a reply always fits
 * a packet. */
#define STARTER_WIRE_MESSAGE_MAX 1024
#define STARTER_WIRE_REPLY_MAX (STARTER_WIRE_MAGIC_LEN + STARTER_WIRE_MESSAGE_MAX + 256)
