#!/usr/sbin/dtrace -Zs
/*
 * imports.d: each module that is looked for and loaded, as it happens:
 * found or not, and the time to find and load (ns, nested imports included).
 *
 * usage: imports.d -p PID     or     imports.d -c 'COMMAND ARGS'
 * python*:::* matches the python provider of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * imports.bt.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("%-10s %12s  %s\n", "RESULT", "TIME(ns)", "MODULE"); }

python*:::import-find-load-start { self->start[copyinstr(arg0)] = timestamp; }

python*:::import-find-load-done
/self->start[copyinstr(arg0)]/
{
	printf("%-10s %12d  %s\n", arg1 ? "loaded" : "not found",
	    timestamp - self->start[copyinstr(arg0)], copyinstr(arg0));
	self->start[copyinstr(arg0)] = 0;
}
