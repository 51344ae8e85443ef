#!/usr/sbin/dtrace -Zs
/*
 * gcpause.d: garbage collection pauses: a histogram of the time from
 * gc-start to gc-done, in nanoseconds, by generation.
 *
 * usage: gcpause.d PROVIDER -p PID
 *        gcpause.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * gcpause.bt. A gc-done whose gc-start was not traced (the collection began
 * before tracing) is counted apart.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::gc-start
{
	self->start = timestamp;
	self->generation = arg0;
}

/* 0 in a variable is a value never stored: a start not traced. */
$1*:::gc-done
/!self->start/
{
	@untraced[pid] = count();
}

$1*:::gc-done
/self->start/
{
	@pause_ns[self->generation] = quantize(timestamp - self->start);
	self->start = 0;
	self->generation = 0;
}

dtrace:::END
{
	printf("\nGC pauses (ns) by generation:\n");
	printa("generation %d%@d\n", @pause_ns);
	printf("\nCollections left out, their start not traced (by pid, if any):\n");
	printa("%8d %@14d\n", @untraced);
}
