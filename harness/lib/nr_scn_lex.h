/* nr_scn_lex.h - internal to the scenario parser: the tokenizer of one line
 * and the template builders it shares with the parser.
 *
 * The lexer reads one line (no newline in it) through an nr_cursor and
 * hands out one token at a time, already decoded into a template: quoted
 * strings with their escapes, x"hex" bytes, /regex/ text and bare words.
 * Variable references are checked through a callback as they are read, so
 * errors come out left to right with the column of the offending text. */
#ifndef NR_SCN_LEX_H
#define NR_SCN_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "nr_cursor.h"
#include "nr_scn.h"

enum lx_kind {
    LX_EOL,    /* end of the line (or a comment) */
    LX_WORD,   /* bare word; tmpl holds it, ${var} references included */
    LX_STRING, /* "..." */
    LX_HEX,    /* x"..." (one literal segment, no variables) */
    LX_REGEX,  /* /.../ (only where the parser asked for one) */
    LX_STAR,   /* '*' */
};

struct lx_tok {
    enum lx_kind kind;
    unsigned col;         /* 1-based column of the first byte */
    const uint8_t *raw;   /* the source text of the token (in the line) */
    size_t rawlen;
    struct nr_tmpl tmpl;  /* decoded value; owned by the token until moved */
};

/* Checks a variable reference "name" or "name.field" found at column col;
 * returns 0 if it may be used there, else -1 with the message in errbuf. */
typedef int (*lx_varcheck_fn)(void *ctx, const char *ref, unsigned col, char *errbuf);

struct lx {
    struct nr_cursor cur;     /* over the current line */
    const char *path;         /* names the file in messages */
    unsigned line;            /* 1-based line number */
    char *errbuf;
    lx_varcheck_fn varcheck;
    void *ctx;
    uint8_t *scratch;         /* NR_SCN_LINE_MAX bytes for decoding, caller's */
};

/* Start reading a line. */
void lx_line(struct lx *l, const uint8_t *line, size_t len, unsigned lineno);

/* Read the next token into *t (whose previous template must have been
 * freed or moved).  regex_ok: a '/' starts a regex rather than a bare word.
 * Returns 0, or -1 with "path:line:col: expected ..." in errbuf. */
int lx_next(struct lx *l, struct lx_tok *t, int regex_ok);

/* Free a token's template. */
void lx_tok_clear(struct lx_tok *t);

/* Write "path:line:col: " followed by the formatted text into errbuf.
 * Returns -1. */
int lx_errf(const struct lx *l, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write "path:line:col: expected WHAT, got 'TEXT'" (or "got end of line"
 * when len is 0 and text NULL), TEXT shown printable and shortened.
 * Returns -1. */
int lx_err_got(const struct lx *l, unsigned col, const char *what, const uint8_t *text,
               size_t len);

/* Append bytes to a template, merged into a trailing literal segment.
 * Returns 0, or -1 when out of memory. */
int nr_tmpl_add_lit(struct nr_tmpl *t, const uint8_t *b, size_t n);

/* Append a variable segment naming name[0..n).  Returns 0 or -1. */
int nr_tmpl_add_var(struct nr_tmpl *t, const char *name, size_t n);

/* Make room in a growable array *v of n elements of size sz for one more;
 * capacity is implied (the next power of two).  Returns 0 or -1. */
int nr_scn_grow(void **v, size_t n, size_t sz);

#endif
