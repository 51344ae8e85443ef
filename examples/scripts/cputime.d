#!/usr/sbin/dtrace -Zs
/*
 * cputime.d: on-CPU time per function, inclusive and exclusive (own code
 * only), by file and function, in nanoseconds (as py_cputime.d): vtimestamp
 * stands still while the thread is off CPU.
 *
 * usage: cputime.d PROVIDER -p PID
 *        cputime.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * cputime.bt. A return whose entry was not traced (its call began before
 * tracing) is left out of the times and counted apart.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::function-entry
{
	self->depth++;
	self->start[self->depth] = vtimestamp;
	self->inner[self->depth] = 0;
}

/* 0 in a variable is a value never stored: an entry not traced. */
$1*:::function-return
{
	this->start = self->start[self->depth];
	this->inner = self->inner[self->depth];
	self->start[self->depth] = 0;
	self->inner[self->depth] = 0;
	self->depth -= self->depth > 0 ? 1 : 0;
}

$1*:::function-return
/this->start/
{
	this->all = vtimestamp - this->start;
	this->file = copyinstr(arg0);
	this->func = copyinstr(arg1);
	@calls[this->file, this->func] = count();
	@inclusive_ns[this->file, this->func] = sum(this->all);
	@exclusive_ns[this->file, this->func] = sum(this->all - this->inner);
	/* the caller's time in callees */
	self->inner[self->depth] += self->depth > 0 ? this->all : 0;
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
	printf("\nCalls:\n");
	printa("%-32s %-32s %@14d\n", @calls);
	printf("\nInclusive on-CPU time (ns), callees included:\n");
	printa("%-32s %-32s %@14d\n", @inclusive_ns);
	printf("\nExclusive on-CPU time (ns), the function's own code:\n");
	printa("%-32s %-32s %@14d\n", @exclusive_ns);
	printf("\nReturns left out, their entry not traced (by pid, if any):\n");
	printa("%8d %@14d\n", @untraced);
}
