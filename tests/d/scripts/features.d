#!/usr/sbin/dtrace -Zs
/*
 * features.d: the D the front end translates, in one script that bpftrace
 * must load (tests/d/test_d_bpftrace.py) and the fuzzer starts from: every
 * kind of probe, variable, aggregation, output action and builtin that is
 * supported. It traces nothing in particular.
 */

#pragma D option quiet
#pragma D option switchrate=10hz
#pragma D option aggsortkey

self int depth;
this string file;
int counts[string, int];
unsigned long long total;

dtrace:::BEGIN
{
	start = timestamp;
	wall = walltimestamp;
	printf("%-10s %5d %s %c %x %u %%\n", "begin", 42, execname, 65, 255, uid);
	trace(pid);
	trace("\n");
}

python*:::function-entry,
python*:::function-return
/self->depth >= 0 && copyinstr(arg1) != "skip"/
{
	this->file = basename(copyinstr(arg0));
	self->depth += probename == "function-entry" ? 1 : -1;
	self->last[self->depth] = vtimestamp;
	counts[copyinstr(arg1), arg2]++;
	total += 1;
	@calls[this->file, copyinstr(arg1)] = count();
	@joined[strjoin(strjoin(dirname(copyinstr(arg0)), ":"), lltostr(arg2))] = count();
	@depths = lquantize(self->depth, 0, 50, 5);
	@lines[probefunc, probename] = quantize(arg2);
	@avg_line = avg(arg2);
	@lowest["line"] = min(arg2);
	@highest["line"] = max(arg2);
	@sum = sum(arg2 * 2 / 3 % 7 << 1 >> 1 & 0xff | 1 ^ 2);
	printf("%*s%s %s:%d\n", self->depth * 2, "", probename == "function-entry" ? "->" : "<-",
	    this->file, (int)arg2);
}

python*:::gc-start
{
	self->gc = timestamp;
}

python*:::gc-done
/self->gc/
{
	@gc_ns = quantize(timestamp - self->gc);
	self->gc = 0;
}

pid$target::pyprobe_fire_line:entry
{
	@fired[ustack(3)] = count();
}

syscall::write:entry
/pid == $target/
{
	@written[probefunc] = sum(arg2);
}

syscall::read*:return
/pid == $target && arg0 > 0/
{
	@read[probefunc] = sum(arg1);
}

proc:::exec-success
{
	@execs[execname] = count();
}

proc:::exit
/pid == $target/
{
	trace(tid);
}

profile-97
/pid == $target/
{
	@on_cpu[cpu] = count();
}

tick-1sec
{
	normalize(@sum, 2);
	printa("%-20s %@10d\n", @written);
	printa(@read);
	denormalize(@sum);
	clear(@execs);
}

tick-10sec
{
	exit(0);
}

dtrace:::END
{
	trunc(@calls, 20);
	printa("%s %s %@d\n", @calls);
	printa(@lowest);
	printa("%s %@d\n", @highest);
	printf("%d calls, %d ns\n", total, timestamp - start);
}
