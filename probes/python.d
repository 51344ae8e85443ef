/*
 * The python USDT provider: the probes CPython declares in Include/pydtrace.d,
 * with the same names and argument types, so that every existing DTrace,
 * SystemTap, bpftrace and bcc script for Python works unchanged.
 *
 * The build renames the provider (-DPYPROBE_PROVIDER=mylang); the probe set
 * and its signatures stay as they are.
 *
 * One change of order from CPython's file: line comes right after
 * function__entry, so that their semaphores are adjacent and a single load
 * tests both (CPython's line guard, include/pyprobe/cpython/).
 */
provider python {
    probe function__entry(const char *, const char *, int);
    probe line(const char *, const char *, int);
    probe function__return(const char *, const char *, int);
    probe instance__new__start(const char *, const char *);
    probe instance__new__done(const char *, const char *);
    probe instance__delete__start(const char *, const char *);
    probe instance__delete__done(const char *, const char *);
    probe gc__start(int);
    probe gc__done(long);
    probe import__find__load__start(const char *);
    probe import__find__load__done(const char *, int);
    probe audit(const char *, void *);
};

#pragma D attributes Evolving/Evolving/Common provider python provider
#pragma D attributes Evolving/Evolving/Common provider python module
#pragma D attributes Evolving/Evolving/Common provider python function
#pragma D attributes Evolving/Evolving/Common provider python name
#pragma D attributes Evolving/Evolving/Common provider python args
