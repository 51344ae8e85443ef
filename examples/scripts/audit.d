#!/usr/sbin/dtrace -Zs
/*
 * audit.d: audit events (sys.audit in CPython, PEP 578) counted by name.
 *
 * usage: audit.d -p PID     or     audit.d -c 'COMMAND ARGS'
 * python*:::* matches the python provider of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * audit.bt.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

python*:::audit { @events[copyinstr(arg0)] = count(); }

dtrace:::END
{
	printf("\n%-40s %10s\n", "EVENT", "COUNT");
	printa("%-40s %@10d\n", @events);
}
