#!/usr/sbin/dtrace -Zs
/*
 * lines.d: the hottest lines: the 20 lines run most often, by file, line
 * number and function.
 *
 * usage: lines.d PROVIDER -p PID
 *        lines.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * lines.bt.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::line { @lines[copyinstr(arg0), arg2, copyinstr(arg1)] = count(); }

dtrace:::END
{
	trunc(@lines, 20);
	printf("\n%-32s %6s %-32s %10s\n", "FILE", "LINE", "FUNCTION", "COUNT");
	printa("%-32s %6d %-32s %@10d\n", @lines);
}
