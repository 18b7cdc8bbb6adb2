/*
 * enoki/msg.h - messages between applications and a policy.
 *
 * One fixed-size record in both directions, shared by BPF, the policy's
 * native build, the simulator and libenoki, so it has fixed-width fields
 * and a size check.  @type is the policy's own vocabulary (arachne: core
 * requests and grants; locality: data hints); @pid names the thread the
 * message is about; @arg carries the policy-defined payload.
 */
#ifndef ENOKI_MSG_H
#define ENOKI_MSG_H

struct enoki_msg {
	__u32 type;
	__u32 pid;
	__u64 arg[4];
};

_Static_assert(sizeof(struct enoki_msg) == 40, "enoki_msg is ABI");

#endif /* ENOKI_MSG_H */
