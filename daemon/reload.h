/*
 * reload.h - SIGHUP and "rauditctl reload": the file is read, checked and
 * its control group looked up on a helper thread (file I/O and NSS stay off
 * the receive path), and the result is handed to the main thread, which
 * applies it. One reload at a time; a request during one runs another after
 * it, since the file may have changed since the helper read it. Main
 * thread, except where noted.
 */
#ifndef RAUDITD_RELOAD_H
#define RAUDITD_RELOAD_H

#include <stdbool.h>
#include <sys/types.h>

#include <ev.h>

#include "config.h"
#include "kreg.h"
#include "writer.h"

/*
 * The active plugins retention waits for, as read from plugin_dir by
 * plugins_cursor_names (the dispatcher's rules): a directory listing and
 * file reads, so on a helper thread or at start, never on the receive path.
 */
struct reload_plugins {
	char		 names[WRITER_PLUGINS_MAX][PLUGINS_NAME_MAX];
	size_t		 n;
	int		 rc;		/* 0, -E2BIG (the first n), or the error in err */
	char		 err[512];
};

/* What the helper hands back: the checked file and the group, or why not. */
struct reload_result {
	int		 rc;		/* 0, or a negative errno with err */
	char		 err[CONFIG_ERR_MAX];
	struct config	 nc;
	gid_t		 gid;
	bool		 gid_set;	/* control_group was found */
	bool		 gid_missing;	/* control_group is set but does not exist */
	struct reload_plugins plugins;	/* read from nc's plugin_dir */
	struct kreg_sender sender;	/* who asked (SIGHUP or control); valid = known */
};

struct reload;

/*
 * A reloader of the file at cfg_path (kept, not copied) on loop; apply(arg,
 * result) runs on the main thread when a helper has finished. NULL with
 * errno set.
 */
struct reload *reload_new(struct ev_loop *loop, const char *cfg_path,
    void (*apply)(void *arg, const struct reload_result *r), void *arg);

/* Read c's plugin_dir into *p. Any thread; file I/O. */
void reload_plugins_read(struct reload_plugins *p, const struct config *c);

/*
 * Put what reload_plugins_read found into ws (after
 * writer_settings_from_config), logging a failure: at start, retention
 * then waits for no plugin; at a reload, for those it had. Main thread.
 */
void reload_plugins_apply(struct writer_settings *ws, const struct reload_plugins *p,
    bool at_start);

/*
 * Start a reload, or queue one behind the reload in progress. who (may be
 * NULL: unknown) is the sender the DAEMON_CONFIG record names, copied.
 */
void reload_request_by(struct reload *rl, const struct kreg_sender *who);
/*
 * The same for a SIGHUP: when ask, the helper also asks the kernel who sent
 * it (AUDIT_SIGNAL_INFO, a request that may sleep: never on main).
 */
void reload_request_signal(struct reload *rl, bool ask);

/*
 * Wait at most ms for a helper still reading the file, then free. A helper
 * that does not finish in time is left to the process exit, with its memory.
 */
void reload_free(struct reload *rl, unsigned ms);

#endif
