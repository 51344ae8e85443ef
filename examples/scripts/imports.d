#!/usr/sbin/dtrace -Zs
/*
 * imports.d: each module that is looked for and loaded, as it happens:
 * found or not, and the time to find and load (ns, nested imports included).
 *
 * usage: imports.d PROVIDER -p PID
 *        imports.d PROVIDER -c 'COMMAND ARGS'
 * PROVIDER: python, or lua for examples/lua; $1*:::* matches that provider
 * of every process (python1234),
 * whether the probes come from libpyprobe or from CPython itself; the trace
 * ends when the process of -p or -c exits, or at Ctrl-C. bpftrace twin:
 * imports.bt. Starts are kept by nesting depth, as in imports.bt; an import
 * whose start was not traced (it began before tracing) is counted apart.
 */

#pragma D option quiet

dtrace:::BEGIN { printf("%-10s %12s  %s\n", "RESULT", "TIME(ns)", "MODULE"); }

/*
 * Per thread, a stack of the start times of the imports in progress (an
 * import nests the imports its module makes). 0 in a variable is a value
 * never stored: a start not traced.
 */
$1*:::import-find-load-start
{
	self->depth++;
	self->start[self->depth] = timestamp;
}

$1*:::import-find-load-done
{
	this->start = self->start[self->depth];
	self->start[self->depth] = 0;
	self->depth -= self->depth > 0 ? 1 : 0;
}

$1*:::import-find-load-done
/this->start/
{
	printf("%-10s %12d  %s\n", arg1 ? "loaded" : "not found",
	    timestamp - this->start, copyinstr(arg0));
}

$1*:::import-find-load-done
/!this->start/
{
	@untraced[pid] = count();
}

dtrace:::END
{
	printf("\nImports left out, their start not traced (by pid, if any):\n");
	printa("%8d %@14d\n", @untraced);
}
