/*
 * locality_msg.h - the messages between applications and the locality
 * policy, shared by the policy, libenoki and applications.
 *
 * Applications send (struct enoki_msg, type and fields below):
 *
 *   LOCALITY_MSG_HINT      pid = the thread, arg[0] = the data region it
 *                          works on (an application-chosen id; 0 clears
 *                          the thread's hint).
 *
 * The policy answers the first hint for each region:
 *
 *   LOCALITY_MSG_PLACED    arg[0] = the region, arg[1] = the CPU it was
 *                          given, arg[2] = regions on that CPU now.
 *
 * Include only <enoki/msg.h> here: applications include it after
 * <linux/types.h>.
 */
#ifndef SCHED_LOCALITY_MSG_H
#define SCHED_LOCALITY_MSG_H

#include <enoki/msg.h>

#define LOCALITY_MSG_HINT 1
#define LOCALITY_MSG_PLACED 2

#endif /* SCHED_LOCALITY_MSG_H */
