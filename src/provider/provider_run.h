/*
 * provider_run.h - running systemtap's dtrace so that it can neither hang a
 * build nor break the next one: under a time limit, in a process group of
 * its own that is killed whole on a time-out or an interruption, and in a
 * scratch directory of its own. (dtrace -G writes temporary files with
 * fixed names into its working directory; a killed run left one behind,
 * and every later run failed on it. A malformed file made it spin forever.)
 */
#ifndef PYPROBE_PROVIDER_RUN_H
#define PYPROBE_PROVIDER_RUN_H

/* Runs argv (argv[0] looked up in PATH) in directory `dir` with stdin from
 * /dev/null, as the leader of a new process group, for at most
 * `timeout_seconds`; if the caller dies, the kernel kills it
 * (PR_SET_PDEATHSIG). SIGINT, SIGTERM, SIGHUP and SIGQUIT (those not
 * ignored) are blocked meanwhile and end the wait.
 *   0           it ended: *status is its wait status
 *   -ETIMEDOUT  it ran too long: its process group was killed and reaped
 *   -EINTR      one of those signals came first: the group was killed and
 *               reaped, and *status is the signal (the caller re-raises it
 *               once it has cleaned up)
 *   -errno      it could not be started (exec's errno: -ENOENT, -EACCES ...) */
int pyprobe__run_limited(char *const argv[], const char *dir, unsigned timeout_seconds, int *status);

/* Removes the directory tree at `path`, not following symbolic links: 0,
 * also when there is none, or -errno. */
int pyprobe__remove_tree(const char *path);

/* `dtrace MODE [OPTIONS] -s SOURCE_NAME -o NAME` (MODE -h or -G; `options`
 * a NULL-terminated list, or NULL), run by pyprobe__run_limited() in the
 * scratch directory OUTPUT.dtrace-tmp, after writing `source` (a provider
 * file's text: pyprobe__d_dtrace_source()) there as SOURCE_NAME (a base
 * name); NAME is OUTPUT's base name. The result replaces `output` only when
 * dtrace succeeded (exit status 0), so an interrupted run never leaves half
 * a file; the scratch directory is removed in every case, and a stale one
 * of a killed run before starting. Returns what pyprobe__run_limited()
 * does (with *status), or the -errno of preparing or of moving the result
 * (-ENOENT: dtrace wrote none). */
int pyprobe__dtrace(const char *dtrace, const char *mode, char *const options[], const char *source,
                    const char *source_name, const char *output, unsigned timeout_seconds, int *status);

#endif /* PYPROBE_PROVIDER_RUN_H */
