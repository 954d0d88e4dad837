/* Shared between the files of the state store (state.c, state_read.c,
 * state_doc.c, lock.c); nothing outside cli/stack/state*.c and lock.c
 * includes it. */
#ifndef DC_STATE_INTERNAL_H
#define DC_STATE_INTERNAL_H

#include <git2.h>
#include <pthread.h>
#include <stddef.h>

#include "stack/state.h"

struct dc_state {
	char *dir; /* as the user gave it, for messages and hints */
	git_repository *repo;
	/* Saves from several threads of one run are serialised here; runs in
	 * other processes are serialised by the repository flock. */
	pthread_mutex_t mu;
};

/* 1 when `stack` is a valid stack name ([a-z0-9][a-z0-9-]{0,39}). */
int dc_state_name_valid(const char *stack);
/* 0, or -1 with a message quoting the bad name. */
int dc_state_name_check(const char *stack);

/* Record "<what>: <libgit2's last message>" and return -1. */
int dc_state_git_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Take the repository-wide lock (locks/.repo.lock), waiting for it; *out is
 * the descriptor to hand to dc_state_repo_unlock. */
int dc_state_repo_lock(int *out, const struct dc_state *st);
void dc_state_repo_unlock(int fd);

enum { DC_DOC_OK = 0, DC_DOC_CORRUPT = -1, DC_DOC_NEWER = 1 };
/* Whether doc is a stack document of `stack` that this deployctl reads:
 * DC_DOC_OK, or DC_DOC_CORRUPT / DC_DOC_NEWER with the reason in why. */
int dc_state_doc_check(const json_t *doc, const char *stack, char *why, size_t n);
/* 0, or -1 naming the JSON path of the first value that looks secret. */
int dc_state_doc_secrets(const json_t *doc, const char *stack);

#endif
