/*
 * arachne_msg.h - the messages between applications and the arachne core
 * arbiter, shared by the policy, libenoki and applications.
 *
 * Applications send (struct enoki_msg, type and fields below):
 *
 *   ARACHNE_MSG_REGISTER       pid = a thread of the application,
 *                              arg[0] = application id (not 0).
 *                              The thread is scheduled as the app's.
 *   ARACHNE_MSG_REQUEST_CORES  arg[0] = application id, arg[1] = how many
 *                              cores it wants now (0 gives all back).
 *
 * The policy answers, one message per core that changes hands:
 *
 *   ARACHNE_MSG_GRANT          arg[0] = application id, arg[1] = the CPU
 *                              now dedicated to it, arg[2] = cores it
 *                              holds after this grant, arg[3] = cores it
 *                              requested.
 *   ARACHNE_MSG_RECLAIM        the same fields, for a CPU taken back
 *                              (the request dropped, or another
 *                              application needs its fair share).
 *
 * pid is 0 in notifications.  Fields are fixed-width (struct enoki_msg),
 * so BPF, the native build and applications agree.  Include only
 * <enoki/msg.h> here: applications include it after <linux/types.h>.
 */
#ifndef SCHED_ARACHNE_MSG_H
#define SCHED_ARACHNE_MSG_H

#include <enoki/msg.h>

#define ARACHNE_MSG_REGISTER 1
#define ARACHNE_MSG_REQUEST_CORES 2
#define ARACHNE_MSG_GRANT 3
#define ARACHNE_MSG_RECLAIM 4

#endif /* SCHED_ARACHNE_MSG_H */
