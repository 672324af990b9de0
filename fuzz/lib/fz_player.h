/* fz_player.h - the client side of a stateful fuzz input (fz_records.h):
 * one player shared by the in-process driver (fz_driver.c) and the
 * LD_PRELOAD desocketing library (fuzz/preload/preload.c).
 *
 * The player keeps one client per connection slot, opens it on the slot's
 * first record (through a hook: a socketpair for the driver, a connect to
 * the desocketed listener for preload), and applies the records to it:
 * sends without blocking, half-closes, closes and drains replies, waiting
 * with poll where its settings say so.  What differs between its users is
 * behind the hooks of struct fz_player_ops and the settings.
 *
 * Self-contained on purpose: fz_player.c uses only libc, fz_records.h and
 * the header-only nr_cursor.h, so preload compiles it into its
 * position-independent library (as it does fz_records.c) without linking
 * libnr or libfz.  The player never calls malloc (preload's helper thread
 * must not) and keeps nothing in globals. */
#ifndef FZ_PLAYER_H
#define FZ_PLAYER_H

#include <stddef.h>
#include <stdint.h>

#include "fz_records.h"

#define FZ_PLAY_OPEN_ABANDON (-2) /* ops->open: out of resources, abandon the input */

struct fz_player_ops {
    /* Open the client of slot conn; pl->cl[conn] is reset (fd -1) before
     * the call and the hook may mark it (eof = 1: the server refused it).
     * Returns the client's fd (the player's from now on: every call on it
     * says MSG_DONTWAIT, and the player closes it), -1 to ignore the record,
     * or FZ_PLAY_OPEN_ABANDON. */
    int (*open)(void *ctx, unsigned conn);
    /* Optional: the client of conn is about to shut its write side or to
     * close (a shut or close record, or the end of the input). */
    void (*before_shut)(void *ctx, unsigned conn);
    /* Optional: a send on conn found the socket buffer full after `tries`
     * earlier stalls of the same send.  Make room (run the server) and
     * return 1 to try again, 0 to drop the rest of the payload.  NULL: the
     * player waits up to stall_ms for room (see struct fz_player). */
    int (*stalled)(void *ctx, unsigned conn, int tries);
    /* Optional: run the server until it is quiet; called by a drain record
     * that does not wait (drain_ms 0 or nothing owed) instead of reading
     * the one connection. */
    void (*settle)(void *ctx);
    /* Optional: reply bytes the client of conn read, in order. */
    void (*on_reply)(void *ctx, unsigned conn, const uint8_t *buf, size_t len);
    /* Optional: client bytes the socket of conn accepted, in order. */
    void (*on_send)(void *ctx, unsigned conn, const uint8_t *buf, size_t len);
    /* Optional: the client of conn has closed; eof 1 when it had read the
     * server's orderly end of stream first. */
    void (*on_close)(void *ctx, unsigned conn, int eof);
};

/* One connection's client. */
struct fz_client {
    int fd;         /* -1 when not open */
    int shut;       /* write side shut */
    int eof;        /* saw EOF or an error from the server */
    int fin;        /* that EOF was orderly: a read returned 0 */
    int unanswered; /* a reply is owed: bytes sent since the last drain, or
                     * the greeting of a fresh connection (speaks_first) */
    size_t queued;  /* bytes the socket accepted */
};

struct fz_player {
    const struct fz_player_ops *ops;
    void *ctx;            /* passed to every hook */
    /* settings, which the user may change between records */
    int max_opens;        /* connections one input may open in all */
    size_t conn_cap;      /* bytes sent per connection at most (0: no cap) */
    int drain_ms;         /* a drain record that owes a reply waits this long
                           * for it (0: never waits) */
    int stall_ms;         /* ops->stalled NULL: wait for room this long per
                           * stall (< 0: drop the rest at once) */
    int max_stalls;       /* ... at most this many times per send (0: no limit) */
    int finish_ms;        /* fz_play_close_all reads to EOF this long per
                           * client (0: takes only what is there) */
    int speaks_first;     /* a fresh connection owes a greeting */
    /* state */
    struct fz_client cl[FZ_MAX_CONNS];
    int opens;            /* clients opened so far */
    size_t sent;          /* payload bytes of the send records applied */
};

/* Start a player with no client open; settings zero except max_opens. */
void fz_play_init(struct fz_player *pl, const struct fz_player_ops *ops, void *ctx,
                  int max_opens);

/* Apply one record.  Returns 1 when applied, 0 when ignored (no connection
 * left to open, or ops->open said -1), or -1 when ops->open said
 * FZ_PLAY_OPEN_ABANDON. */
int fz_play_record(struct fz_player *pl, const struct fz_rec *r);

/* Read what the server has sent on conn without blocking, handing it to
 * on_reply.  Returns the number of bytes read (EOF sets eof). */
size_t fz_play_read(struct fz_player *pl, unsigned conn);

/* Wait up to ms for reply bytes on conn and take what is there; with
 * until_eof go on until EOF or ms has passed. */
void fz_play_drain(struct fz_player *pl, unsigned conn, int ms, int until_eof);

/* The end of the input, first half: every open client half-closes. */
void fz_play_shut_all(struct fz_player *pl);

/* The end of the input, second half: every open client reads the rest of
 * its reply (up to finish_ms) and closes. */
void fz_play_close_all(struct fz_player *pl);

#endif
