#!/usr/sbin/dtrace -Zs
/*
 * instances.d: objects created and deleted by class (and the file that
 * defines it), and live objects: created minus deleted while tracing. A
 * leak shows as a live count that keeps growing. CPython declares these
 * probes but never fires them: use it with interpreters that do.
 *
 * usage: instances.d PROVIDER -p PID
 *        instances.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * instances.bt.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("Tracing... Hit Ctrl-C to end.\n"); }

$1*:::instance-new-done
{
	@created[copyinstr(arg0), copyinstr(arg1)] = count();
	@live[copyinstr(arg0), copyinstr(arg1)] = sum(1);
}

$1*:::instance-delete-done
{
	@deleted[copyinstr(arg0), copyinstr(arg1)] = count();
	@live[copyinstr(arg0), copyinstr(arg1)] = sum(-1);
}

dtrace:::END
{
	printf("\n%-24s %-32s %10s %10s %10s\n", "CLASS", "FILE", "CREATED", "DELETED", "LIVE");
	printa("%-24s %-32s %@10d %@10d %@10d\n", @created, @deleted, @live);
}
