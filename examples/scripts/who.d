#!/usr/sbin/dtrace -Zs
/*
 * who.d: function calls by process: pid, user id and command (as py_who.d).
 *
 * usage: who.d PROVIDER -p PID
 *        who.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * who.bt.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::function-entry { @calls[pid, uid, execname] = count(); }

/* CPython 3.11 fires function-entry only while line is enabled (gh-98894). */
$1*:::line /0/ { }

dtrace:::END
{
	printf("\n%8s %6s %-20s %10s\n", "PID", "UID", "COMMAND", "CALLS");
	printa("%8d %6d %-20s %@10d\n", @calls);
}
