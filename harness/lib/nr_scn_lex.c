/* nr_scn_lex.c - tokenizer of the scenario language (one line at a time). */
#include "nr_scn_lex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nr_err.h"

#define GOT_SHOWN 40 /* bytes of an offending token quoted in a message */

void lx_line(struct lx *l, const uint8_t *line, size_t len, unsigned lineno)
{
    nr_cur_init(&l->cur, line, len);
    l->line = lineno;
}

void lx_tok_clear(struct lx_tok *t)
{
    nr_tmpl_free(&t->tmpl);
}

int lx_errf(const struct lx *l, unsigned col, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!l->errbuf)
        return -1;
    n = snprintf(l->errbuf, NR_ERRBUF_SIZE, "%s:%u:%u: ", l->path, l->line, col);
    if (n < 0 || n >= NR_ERRBUF_SIZE)
        return -1;
    va_start(ap, fmt);
    vsnprintf(l->errbuf + n, NR_ERRBUF_SIZE - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

int lx_err_got(const struct lx *l, unsigned col, const char *what, const uint8_t *text,
               size_t len)
{
    char shown[GOT_SHOWN * 4 + 4];
    size_t o = 0;

    if (!text)
        return lx_errf(l, col, "expected %s, got end of line", what);
    for (size_t i = 0; i < len && i < GOT_SHOWN; i++) {
        uint8_t c = text[i];
        if (c >= 0x20 && c < 0x7f)
            shown[o++] = (char)c;
        else
            o += (size_t)snprintf(shown + o, sizeof(shown) - o, "\\x%02x", c);
    }
    if (len > GOT_SHOWN)
        o += (size_t)snprintf(shown + o, sizeof(shown) - o, "...");
    shown[o] = 0;
    return lx_errf(l, col, "expected %s, got '%s'", what, shown);
}

/* Byte k positions ahead of the cursor, or -1 past the end of the line. */
static int peek(const struct lx *l, size_t k)
{
    if (k >= nr_cur_left(&l->cur))
        return -1;
    return nr_cur_ptr(&l->cur)[k];
}

/* 1-based column of the byte k positions ahead of the cursor. */
static unsigned col_at(const struct lx *l, size_t k)
{
    return (unsigned)(l->cur.off + k + 1);
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int is_alpha_(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_bare(int c)
{
    return c >= 0 && (is_alpha_(c) || is_digit(c) || (c != 0 && strchr("-./:[]@%+=,?~${}", c)));
}

static int hexval(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Move the decoded literal bytes scratch[0..*n) into the token. */
static int flush(struct lx *l, struct lx_tok *t, size_t *n)
{
    if (*n == 0)
        return 0;
    if (nr_tmpl_add_lit(&t->tmpl, l->scratch, *n) < 0)
        return lx_errf(l, t->col, "out of memory");
    *n = 0;
    return 0;
}

/* The cursor is at "${": read "${name}" or "${name.field}" and append it
 * as a variable segment (after the pending literal bytes). */
static int read_var(struct lx *l, struct lx_tok *t, size_t *n)
{
    static const char what[] = "a variable reference like ${name} or ${name.port}";
    char ref[NR_SCN_NAME_MAX + 8];
    unsigned col = col_at(l, 0);
    size_t k = 2, name_len, ref_len, shown;
    int c;

    while (is_alpha_(c = peek(l, k)) || (k > 2 && is_digit(c)))
        k++;
    name_len = k - 2;
    if (c == '.') {
        k++;
        while (is_alpha_(peek(l, k)))
            k++;
    }
    ref_len = k - 2;
    shown = k + (peek(l, k) == '}');
    if (name_len == 0 || peek(l, k) != '}' || ref_len == name_len + 1)
        return lx_err_got(l, col, what, nr_cur_ptr(&l->cur), shown);
    if (name_len >= NR_SCN_NAME_MAX)
        return lx_err_got(l, col, "a variable name of at most 31 characters",
                          nr_cur_ptr(&l->cur), shown);
    if (ref_len > name_len &&
        !(ref_len == name_len + 5 && (memcmp(nr_cur_ptr(&l->cur) + 2 + name_len, ".host", 5) == 0 ||
                                      memcmp(nr_cur_ptr(&l->cur) + 2 + name_len, ".port", 5) == 0)))
        return lx_err_got(l, col, "${name}, ${name.host} or ${name.port}", nr_cur_ptr(&l->cur),
                          shown);
    memcpy(ref, nr_cur_ptr(&l->cur) + 2, ref_len);
    ref[ref_len] = 0;
    if (l->varcheck && l->varcheck(l->ctx, ref, col, l->errbuf) < 0)
        return -1;
    if (flush(l, t, n) < 0)
        return -1;
    if (nr_tmpl_add_var(&t->tmpl, ref, ref_len) < 0)
        return lx_errf(l, col, "out of memory");
    nr_cur_skip(&l->cur, k + 1);
    return 0;
}

/* A bare word: bytes of is_bare(), with ${...} references. */
static int read_word(struct lx *l, struct lx_tok *t)
{
    size_t n = 0;
    int c;

    t->kind = LX_WORD;
    while (is_bare(c = peek(l, 0))) {
        if (c == '$' && peek(l, 1) == '{') {
            if (read_var(l, t, &n) < 0)
                return -1;
            continue;
        }
        l->scratch[n++] = (uint8_t)c;
        nr_cur_skip(&l->cur, 1);
    }
    return flush(l, t, &n);
}

/* The escape sequence at the cursor (a backslash) inside a quoted string:
 * decode it into scratch[*n] and advance. */
static int read_escape(struct lx *l, size_t *n)
{
    static const char from[] = "nrt0\\\"$", to[] = "\n\r\t\0\\\"$";
    const char *hit;
    int c = peek(l, 1), hi, lo;
    size_t shown;

    hit = c > 0 ? strchr(from, c) : NULL;
    if (hit) {
        l->scratch[(*n)++] = (uint8_t)to[hit - from];
        nr_cur_skip(&l->cur, 2);
        return 0;
    }
    if (c == 'x' && (hi = hexval(peek(l, 2))) >= 0 && (lo = hexval(peek(l, 3))) >= 0) {
        l->scratch[(*n)++] = (uint8_t)(hi << 4 | lo);
        nr_cur_skip(&l->cur, 4);
        return 0;
    }
    shown = c == 'x' ? 4 : 2;
    if (shown > nr_cur_left(&l->cur))
        shown = nr_cur_left(&l->cur);
    return lx_err_got(l, col_at(l, 0), "an escape \\n \\r \\t \\0 \\\\ \\\" \\$ or \\xHH",
                      nr_cur_ptr(&l->cur), shown);
}

/* The escape at the cursor inside a regex: "\\/" is a slash, \\n \\r \\t are
 * those bytes, every other backslash pair is kept for the regex engine. */
static int regex_escape(struct lx *l, size_t *n)
{
    int c = peek(l, 1);

    if (c == 'n' || c == 'r' || c == 't') {
        l->scratch[(*n)++] = c == 'n' ? '\n' : c == 'r' ? '\r' : '\t';
    } else {
        if (c != '/')
            l->scratch[(*n)++] = '\\';
        l->scratch[(*n)++] = (uint8_t)c;
    }
    nr_cur_skip(&l->cur, 2);
    return 0;
}

/* A quoted string "..." or (re) a regex /.../; cursor on the opener. */
static int read_quoted(struct lx *l, struct lx_tok *t, int re)
{
    int q = re ? '/' : '"', c, rc;
    size_t n = 0;

    t->kind = re ? LX_REGEX : LX_STRING;
    nr_cur_skip(&l->cur, 1);
    while ((c = peek(l, 0)) != q) {
        if (c < 0 || (re && c == '\\' && peek(l, 1) < 0))
            return lx_errf(l, t->col, "expected a closing '%c' for this %s, got end of line", q,
                           re ? "regex" : "string");
        if (c == '\\') {
            rc = re ? regex_escape(l, &n) : read_escape(l, &n);
        } else if (c == '$' && peek(l, 1) == '{') {
            rc = read_var(l, t, &n);
        } else {
            l->scratch[n++] = (uint8_t)c;
            rc = nr_cur_skip(&l->cur, 1);
        }
        if (rc < 0)
            return -1;
    }
    nr_cur_skip(&l->cur, 1);
    if (re && n == 0 && t->tmpl.nsegs == 0)
        return lx_err_got(l, t->col, "a non-empty regex", t->raw, 2);
    if (flush(l, t, &n) < 0)
        return -1;
    if (t->tmpl.nsegs == 0 && nr_tmpl_add_lit(&t->tmpl, NULL, 0) < 0)
        return lx_errf(l, t->col, "out of memory");
    return 0;
}

/* Hex bytes x"0a ff" (cursor on the x): pairs of digits, spaces between. */
static int read_hex(struct lx *l, struct lx_tok *t)
{
    size_t n = 0, k;
    int c;

    t->kind = LX_HEX;
    nr_cur_skip(&l->cur, 2);
    while ((c = peek(l, 0)) != '"') {
        if (c < 0)
            return lx_errf(l, t->col,
                           "expected a closing '\"' for these hex bytes, got end of line");
        if (c == ' ' || c == '\t') {
            nr_cur_skip(&l->cur, 1);
            continue;
        }
        for (k = 0; hexval(peek(l, k)) >= 0; k++)
            ;
        if (k == 0)
            return lx_err_got(l, col_at(l, 0), "a hex digit", nr_cur_ptr(&l->cur), 1);
        if (k % 2)
            return lx_err_got(l, col_at(l, 0), "hex digits in pairs", nr_cur_ptr(&l->cur), k);
        for (; k; k -= 2) {
            l->scratch[n++] = (uint8_t)(hexval(peek(l, 0)) << 4 | hexval(peek(l, 1)));
            nr_cur_skip(&l->cur, 2);
        }
    }
    nr_cur_skip(&l->cur, 1);
    if (nr_tmpl_add_lit(&t->tmpl, l->scratch, n) < 0)
        return lx_errf(l, t->col, "out of memory");
    return 0;
}

int lx_next(struct lx *l, struct lx_tok *t, int regex_ok)
{
    int c, rc;

    memset(t, 0, sizeof(*t));
    while (is_space(peek(l, 0)))
        nr_cur_skip(&l->cur, 1);
    t->col = col_at(l, 0);
    t->raw = nr_cur_ptr(&l->cur);
    c = peek(l, 0);
    if (c < 0 || c == '#') {
        nr_cur_skip(&l->cur, nr_cur_left(&l->cur));
        t->kind = LX_EOL;
        t->raw = NULL;
        return 0;
    }
    if (c == '"' || (c == '/' && regex_ok))
        rc = read_quoted(l, t, c == '/');
    else if (c == 'x' && peek(l, 1) == '"')
        rc = read_hex(l, t);
    else if (c == '*') {
        t->kind = LX_STAR;
        nr_cur_skip(&l->cur, 1);
        rc = 0;
    } else if (is_bare(c))
        rc = read_word(l, t);
    else
        rc = lx_err_got(l, t->col,
                        "a word, \"string\", x\"hex\" or comment (quote special characters)",
                        t->raw, 1);
    t->rawlen = (size_t)(nr_cur_ptr(&l->cur) - t->raw);
    if (rc == 0 && (c = peek(l, 0)) >= 0 && !is_space(c))
        rc = lx_err_got(l, col_at(l, 0), "a space or end of line after a token",
                        nr_cur_ptr(&l->cur), 1);
    if (rc < 0)
        lx_tok_clear(t);
    return rc;
}
