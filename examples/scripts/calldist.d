#!/usr/sbin/dtrace -Zs
/*
 * calldist.d: how long calls take, per function: a histogram of each
 * function's inclusive elapsed time in nanoseconds (as py_calldist.d).
 *
 * usage: calldist.d PROVIDER -p PID
 *        calldist.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * calldist.bt. A return whose entry was not traced (its call began before
 * tracing) is left out of the histograms and counted apart.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::function-entry
{
	self->depth++;
	self->start[self->depth] = timestamp;
}

/* 0 in a variable is a value never stored: an entry not traced. */
$1*:::function-return
{
	this->start = self->start[self->depth];
	self->start[self->depth] = 0;
	self->depth -= self->depth > 0 ? 1 : 0;
}

$1*:::function-return
/this->start/
{
	@ns[copyinstr(arg0), copyinstr(arg1)] = quantize(timestamp - this->start);
}

$1*:::function-return
/!this->start/
{
	@untraced[pid] = count();
}

/* CPython 3.11 fires function-entry only while line is enabled (gh-98894). */
$1*:::line /0/ { }

dtrace:::END
{
	printf("\nElapsed time (ns) by file and function:\n");
	printa("%s, %s%@d\n", @ns);
	printf("\nReturns left out, their entry not traced (by pid, if any):\n");
	printa("%8d %@14d\n", @untraced);
}
