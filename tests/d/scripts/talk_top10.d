/*
 * The second script of the talk "dtrace, Python and You" (Mark Allen), run
 * with -qZs, its typo (copinstr) fixed.
 */
function-entry
{
    /* Count sub entries by package and sub name
     * arg0 = source file name
     * arg1 = function name */
    @[strjoin(strjoin(copyinstr(arg0), "-"), copyinstr(arg1))] = count()
}

END
{
    /* Give me the top 10 highest counts, throw away rest */
    trunc(@, 10)
}
