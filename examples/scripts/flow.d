#!/usr/sbin/dtrace -Zs
/*
 * flow.d: the call flow, indented by depth, with file:line and times (as
 * py_flowinfo.d). TIME(ns) counts from the start of tracing, DELTA(ns) from
 * the thread's previous event; lines from different CPUs may come out of
 * order: sort by TIME.
 *
 * usage: flow.d PROVIDER -p PID
 *        flow.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * flow.bt. The file shows as its base name, as in flow.bt.
 */

#pragma D option quiet
#pragma D option switchrate=10hz

dtrace:::BEGIN
{
	t0 = timestamp;
	printf("%12s %10s  %s\n", "TIME(ns)", "DELTA(ns)", "CALL FLOW");
}

$1*:::function-entry
{
	this->now = timestamp;
	printf("%12d %10d  %*s-> %s %s:%d\n", this->now - t0,
	    self->last ? this->now - self->last : 0, self->depth * 2, "",
	    copyinstr(arg1), basename(copyinstr(arg0)), arg2);
	self->depth++;
	self->last = this->now;
}

$1*:::function-return
{
	this->now = timestamp;
	self->depth -= self->depth > 0 ? 1 : 0;
	printf("%12d %10d  %*s<- %s %s:%d\n", this->now - t0,
	    self->last ? this->now - self->last : 0, self->depth * 2, "",
	    copyinstr(arg1), basename(copyinstr(arg0)), arg2);
	self->last = this->now;
}

/* CPython 3.11 fires function-entry only while line is enabled (gh-98894). */
$1*:::line /0/ { }
