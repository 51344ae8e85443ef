#!/usr/sbin/dtrace -Zs
/*
 * audit.d: audit events (sys.audit in CPython, PEP 578) counted by name.
 *
 * usage: audit.d PROVIDER -p PID
 *        audit.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * audit.bt.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::audit { @events[copyinstr(arg0)] = count(); }

dtrace:::END
{
	printf("\n%-40s %10s\n", "EVENT", "COUNT");
	printa("%-40s %@10d\n", @events);
}
