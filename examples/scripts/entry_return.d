#!/usr/sbin/dtrace -ZFs
/*
 * entry_return.d: every function entry and return, as it happens (the talk's
 * first example). dtrace -F indents the flow: -> on entry, <- on return.
 *
 * usage: entry_return.d PROVIDER -p PID
 *        entry_return.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * entry_return.bt.
 */

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::function-entry,
$1*:::function-return
{
	trace(copyinstr(arg1));
}

/* CPython 3.11 fires function-entry only while line is enabled (gh-98894). */
$1*:::line /0/ { }
