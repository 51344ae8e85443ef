#!/usr/sbin/dtrace -Zs
/*
 * calls.d: function calls, counted by file and function (as py_calls.d).
 *
 * usage: calls.d PROVIDER -p PID
 *        calls.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * calls.bt.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::function-entry { @calls[copyinstr(arg0), copyinstr(arg1)] = count(); }

/* CPython 3.11 fires function-entry only while line is enabled (gh-98894). */
$1*:::line /0/ { }

dtrace:::END
{
	printf("\n%-32s %-32s %10s\n", "FILE", "FUNCTION", "CALLS");
	printa("%-32s %-32s %@10d\n", @calls);
}
