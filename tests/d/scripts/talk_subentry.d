#!/usr/sbin/dtrace -qFZs

/*
 * The first script of the talk "dtrace, Python and You" (Mark Allen), as
 * it shows it, with its missing ';' kept: D lets the last statement of a
 * clause go without one.
 */
function-entry,
function-return
{
    /* arg1 is a subroutine name */
    trace(copyinstr(arg1))
}
