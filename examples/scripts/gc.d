#!/usr/sbin/dtrace -Zs
/*
 * gc.d: garbage collections by generation, and the objects they freed
 * (gc-done's count: for CPython, collected plus uncollectable).
 *
 * usage: gc.d PROVIDER -p PID
 *        gc.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * gc.bt.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::gc-start
{
	@collections[arg0] = count();
	self->generation = arg0 + 1;	/* 0: no collection running */
}

$1*:::gc-done
/self->generation/
{
	@collected[self->generation - 1] = sum(arg0);
	self->generation = 0;
}

dtrace:::END
{
	printf("\n%10s %12s\n", "GENERATION", "COLLECTIONS");
	printa("%10d %@12d\n", @collections);
	printf("\n%10s %12s\n", "GENERATION", "COLLECTED");
	printa("%10d %@12d\n", @collected);
}
