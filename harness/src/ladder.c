/* ladder.c - a ladder as SVG: one column per lane, one row per arrow, band
 * or step, in time order (the time of each row on the axis at the left). */
#include "ladder.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nr_markup.h"

#define LEFT 150     /* time axis and step labels */
#define LANE_W 160
#define TOP 78       /* legend and lane names */
#define ROW 24
#define BAND_ROW 36

const char ladder_css[] =
    "svg.ladder{font:11px sans-serif;background:#fff}\n"
    ".ladder .lane line{stroke:#99a;stroke-dasharray:2 3}\n"
    ".ladder .lane text{font-weight:bold;text-anchor:middle}\n"
    ".ladder .lane .addr{font-weight:normal;fill:#667}\n"
    ".ladder .axis{fill:#667;font-family:monospace}\n"
    ".ladder .pkt line,.ladder .key line{stroke:#345;stroke-width:1.5}\n"
    ".ladder .pkt polygon,.ladder .key polygon{fill:#345}\n"
    ".ladder .pkt text{text-anchor:middle;fill:#223}\n"
    ".ladder .pkt:hover line{stroke-width:3}\n"
    ".ladder .ctl line{stroke:#1a7f37}.ladder .ctl polygon{fill:#1a7f37}\n"
    ".ladder .udp line{stroke:#0a7ea4}.ladder .udp polygon{fill:#0a7ea4}\n"
    ".ladder .ooo line{stroke:#8a4b08;stroke-dasharray:5 2}.ladder .ooo polygon{fill:#8a4b08}\n"
    ".ladder .zwin line{stroke:#8250df}.ladder .zwin polygon{fill:#8250df}\n"
    ".ladder .rtx line{stroke:#e36209}.ladder .rtx polygon{fill:#e36209}\n"
    ".ladder .rst line{stroke:#d1242f;stroke-width:2.5}.ladder .rst polygon{fill:#d1242f}\n"
    ".ladder .rst text{fill:#d1242f;font-weight:bold}\n"
    ".ladder .band polygon{fill:#9ecbff;fill-opacity:.6;stroke:#0969da}\n"
    ".ladder .band text{text-anchor:middle;fill:#0a3069}\n"
    ".ladder .band.zwin polygon{stroke:#8250df;stroke-width:2.5}\n"
    ".ladder .step line{stroke:#bbb;stroke-dasharray:6 3}\n"
    ".ladder .step text{fill:#555;font-family:monospace}\n"
    ".ladder .step.failed line{stroke:#d1242f;stroke-width:2}\n"
    ".ladder .step.failed text{fill:#d1242f;font-weight:bold}\n"
    ".ladder .note{fill:#8a4b08}\n"
    ".ladder .note.drop{fill:#d1242f;font-weight:bold}\n";

uint8_t *ladder_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    uint8_t *buf = NULL, *nb;
    size_t cap = 0, n;

    *len = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (*len == cap) {
            cap = cap ? 2 * cap : 65536;
            if (!(nb = realloc(buf, cap)))
                break;
            buf = nb;
        }
        n = fread(buf + *len, 1, cap - *len, f);
        *len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    return buf;
}

/* One row of the drawing: an event of the ladder or a step of the log. */
struct row {
    int64_t ts;   /* capture time */
    int is_step;
    size_t idx;
};

static int cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;

    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    if (x->is_step != y->is_step)
        return y->is_step - x->is_step; /* a step before the packets it causes */
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Capture time of a log time (us). */
static int64_t log_ns(const struct nr_ladder_log *log, int64_t us)
{
    return (log->clock_us + us) * 1000;
}

static int lane_x(size_t lane)
{
    return LEFT + LANE_W / 2 + (int)lane * LANE_W;
}

/* The colour class of an arrow: its worst mark. */
static const char *mark_class(uint8_t m)
{
    if (m & NR_LM_RST)
        return "rst";
    if (m & NR_LM_RETRANS)
        return "rtx";
    if (m & NR_LM_ZEROWIN)
        return "zwin";
    if (m & NR_LM_OOO)
        return "ooo";
    if (m & (NR_LM_SYN | NR_LM_FIN))
        return "ctl";
    if (m & NR_LM_UDP)
        return "udp";
    return "data";
}

/* "SYN ACK seq=0 ack=1 len=6 win=0", and what is wrong with it. */
static void arrow_label(char *buf, size_t len, const struct nr_ladder_event *e)
{
    static const struct { uint8_t bit; const char *name; } fl[] = {
        { NR_TCP_SYN, "SYN" }, { NR_TCP_FIN, "FIN" }, { NR_TCP_RST, "RST" },
        { NR_TCP_PSH, "PSH" }, { NR_TCP_ACK, "ACK" }, { NR_TCP_URG, "URG" } };
    size_t at = 0;

#define PUT(...) (at += (size_t)snprintf(buf + at, at < len ? len - at : 0, __VA_ARGS__))
    buf[0] = '\0';
    if (e->marks & NR_LM_UDP) {
        PUT("UDP len=%" PRIu64, e->bytes);
        return;
    }
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
        if (e->flags & fl[i].bit)
            PUT("%s%s", at ? " " : "", fl[i].name);
    PUT(" seq=%" PRIu32, e->rseq);
    if (e->flags & NR_TCP_ACK)
        PUT(" ack=%" PRIu32, e->rack);
    if (e->bytes)
        PUT(" len=%" PRIu64, e->bytes);
    if (e->marks & NR_LM_ZEROWIN)
        PUT(" win=0");
    if (e->marks & NR_LM_RETRANS)
        PUT(" (retransmission)");
    if (e->marks & NR_LM_OOO)
        PUT(" (out of order: bytes missing before it)");
#undef PUT
}

static void size_text(char *buf, size_t len, uint64_t b)
{
    if (b >= 1 << 20)
        snprintf(buf, len, "%.1f MiB", (double)b / (1 << 20));
    else if (b >= 1 << 10)
        snprintf(buf, len, "%.1f KiB", (double)b / (1 << 10));
    else
        snprintf(buf, len, "%" PRIu64 " B", b);
}

static const char *lane_label(const struct nr_ladder *l, uint32_t i)
{
    const struct nr_ladder_lane *ln = &l->lanes[i];

    return ln->name[0] ? ln->name : ln->addr;
}

static void draw_arrow(FILE *f, const struct nr_ladder *l, const struct nr_ladder_event *e, int y)
{
    int x0 = lane_x(e->from), x1 = lane_x(e->to), dir = x1 >= x0 ? 1 : -1;
    int ya = y + 8, yb = y + 18;
    char label[160];

    arrow_label(label, sizeof(label), e);
    fprintf(f, "<g class=\"pkt %s\" data-frame=\"%" PRIu64 "\"><title>#%" PRIu64 " ", mark_class(e->marks),
            e->frame, e->frame);
    nr_markup_str(f, lane_label(l, e->from), 1);
    fputs(" \xe2\x86\x92 ", f);
    nr_markup_str(f, lane_label(l, e->to), 1);
    fprintf(f, " (connection %" PRIu32 ")\n%s", e->conn, label);
    if (e->npreview) {
        fputs("\n", f);
        nr_markup_esc(f, e->preview, e->npreview, 1);
        if (e->bytes > e->npreview)
            fputs("\xe2\x80\xa6", f);
    }
    fputs("</title>", f);
    if (x0 == x1) { /* both ends in one lane (the lane of others) */
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><polygon points=\"%d,%d %d,%d %d,%d\"/>",
                x0, ya, x0 + 40, yb, x0 + 40, yb, x0 + 32, yb - 5, x0 + 33, yb + 3);
        x1 = x0 + 80;
    } else {
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><polygon points=\"%d,%d %d,%d %d,%d\"/>",
                x0, ya, x1, yb, x1, yb, x1 - 9 * dir, yb - 4, x1 - 9 * dir, yb + 2);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\">", (x0 + x1) / 2, ya - 1);
    nr_markup_str(f, label, 1);
    fputs("</text></g>\n", f);
}

static void draw_band(FILE *f, const struct nr_ladder *l, const struct nr_ladder_event *e, int y)
{
    int x0 = lane_x(e->from), x1 = lane_x(e->to), h = BAND_ROW - 10;
    char size[32];

    if (x0 == x1)
        x1 = x0 + 60;
    size_text(size, sizeof(size), e->bytes);
    fprintf(f, "<g class=\"band%s\" data-n=\"%" PRIu32 "\" data-frame=\"%" PRIu64 "\"><title>",
            e->nzwin ? " zwin" : "", e->npkts, e->frame);
    nr_markup_str(f, lane_label(l, e->from), 1);
    fputs(" \xe2\x86\x92 ", f);
    nr_markup_str(f, lane_label(l, e->to), 1);
    fprintf(f, " (connection %" PRIu32 "): a burst of %" PRIu32 " data segments carrying %" PRIu64
               " bytes, with %" PRIu32 " ACKs back (%" PRIu32 " packets advertise a zero window); frames "
               "from #%" PRIu64 ", %.6f s</title>",
            e->conn, e->npkts - e->nback, e->bytes, e->nback, e->nzwin, e->frame,
            (double)(e->end_ns - e->ts_ns) / 1e9);
    fprintf(f, "<polygon points=\"%d,%d %d,%d %d,%d %d,%d\"/>", x0, y + 4, x1, y + 10, x1, y + h + 4,
            x0, y + h - 2);
    fprintf(f, "<text x=\"%d\" y=\"%d\">%s %" PRIu32 " packets: %" PRIu32 " segments, %s; %" PRIu32
               " ACKs", (x0 + x1) / 2, y + h / 2 + 8, x1 > x0 ? "\xe2\x86\x92" : "\xe2\x86\x90",
            e->npkts, e->npkts - e->nback, size, e->nback);
    if (e->nzwin)
        fprintf(f, "; %" PRIu32 " zero windows", e->nzwin);
    fprintf(f, "; %.3f ms</text></g>\n", (double)(e->end_ns - e->ts_ns) / 1e6);
}

static void draw_step(FILE *f, const struct nr_ladder_step *s, int y, int width)
{
    fprintf(f, "<g class=\"step%s\" data-line=\"%u\"><line x1=\"4\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
               "<text x=\"%d\" y=\"%d\">%u: ",
            s->failed ? " failed" : "", s->line, y + 4, width - 4, y + 4, LEFT - 60, y + 17,
            s->line);
    nr_markup_str(f, s->text, 1);
    fprintf(f, "%s</text></g>\n", s->failed ? "  \xe2\x9c\x97 FAILED" : "");
}

static void legend(FILE *f)
{
    static const struct { const char *cls, *text; } k[] = {
        { "data", "data / ACK" }, { "ctl", "SYN, FIN" }, { "rst", "RST" },
        { "rtx", "retransmission" }, { "zwin", "zero window" },
        { "ooo", "out of order (gap)" }, { "udp", "UDP" } };
    int x = 8;

    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++, x += 132)
        fprintf(f, "<g class=\"key %s\"><line x1=\"%d\" y1=\"12\" x2=\"%d\" y2=\"12\"/>"
                   "<polygon points=\"%d,12 %d,8 %d,16\"/><text x=\"%d\" y=\"16\">%s</text></g>\n",
                k[i].cls, x, x + 26, x + 30, x + 22, x + 22, x + 34, k[i].text);
    fprintf(f, "<g class=\"key-band\"><rect x=\"%d\" y=\"5\" width=\"26\" height=\"14\" "
               "fill=\"#9ecbff\" stroke=\"#0969da\"/><text x=\"%d\" y=\"16\">burst (band)</text></g>\n",
            x, x + 32);
}

/* One line of notes below the rows, at *y (moved on). */
static void note(FILE *f, int *y, const char *cls, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void note(FILE *f, int *y, const char *cls, const char *fmt, ...)
{
    va_list ap;

    fprintf(f, "<text class=\"note%s\" x=\"8\" y=\"%d\">", cls, *y);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputs("</text>\n", f);
    *y += 16;
}

void ladder_svg(FILE *f, const struct nr_ladder *l, const struct nr_ladder_log *log,
                int standalone)
{
    size_t nsteps = log && log->have_clock ? log->nsteps : 0, nrows = 0;
    struct row *rows = calloc(l->nev + nsteps + 1, sizeof(*rows));
    int width = LEFT + (int)(l->nlanes ? l->nlanes : 1) * LANE_W + 20, height = TOP + 100, y;
    int legend_w = 8 + 7 * 132 + 130;
    int64_t from = l->first_ns + l->o.from_ns, to = l->o.to_ns > 0 ? l->first_ns + l->o.to_ns : 0;

    if (width < legend_w)
        width = legend_w;
    for (size_t i = 0; rows && i < l->nev; i++) {
        rows[nrows++] = (struct row){ l->ev[i].ts_ns, 0, i };
        height += l->ev[i].band ? BAND_ROW : ROW;
    }
    for (size_t i = 0; rows && i < nsteps; i++) {
        int64_t t = log_ns(log, log->steps[i].start_us);
        if ((l->o.from_ns && t < from) || (to && t > to))
            continue;
        rows[nrows++] = (struct row){ t, 1, i };
        height += ROW;
    }
    if (rows)
        qsort(rows, nrows, sizeof(*rows), cmp_row);
    if (standalone)
        fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<svg %sclass=\"ladder\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "data-lanes=\"%zu\" data-events=\"%zu\" data-packets=\"%" PRIu64 "\">\n",
            standalone ? "xmlns=\"http://www.w3.org/2000/svg\" " : "", width, height, width,
            height, l->nlanes, l->nev, l->drawn_pkts);
    if (standalone)
        fprintf(f, "<style>\n%s</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
                ladder_css);
    legend(f);
    for (size_t i = 0; i < l->nlanes; i++) {
        const struct nr_ladder_lane *ln = &l->lanes[i];
        int x = lane_x(i);
        fprintf(f, "<g class=\"lane\" data-addr=\"");
        nr_markup_str(f, ln->addr, 1);
        fprintf(f, "\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/><text x=\"%d\" y=\"%d\">", x,
                TOP - 8, x, height - 30, x, TOP - 26);
        if (ln->others)
            fprintf(f, "others (%" PRIu32 " endpoints)", ln->others);
        else
            nr_markup_str(f, ln->name[0] ? ln->name : "?", 1);
        fprintf(f, "</text><text class=\"addr\" x=\"%d\" y=\"%d\">", x, TOP - 12);
        nr_markup_str(f, ln->addr, 1);
        fputs("</text></g>\n", f);
    }
    y = TOP;
    for (size_t r = 0; r < nrows; r++) {
        const struct row *w = &rows[r];
        fprintf(f, "<text class=\"axis\" x=\"4\" y=\"%d\">%+.6f</text>\n", y + 17,
                (double)(w->ts - l->first_ns) / 1e9);
        if (w->is_step) {
            draw_step(f, &log->steps[w->idx], y, width);
            y += ROW;
        } else if (l->ev[w->idx].band) {
            draw_band(f, l, &l->ev[w->idx], y);
            y += BAND_ROW;
        } else {
            draw_arrow(f, l, &l->ev[w->idx], y);
            y += ROW;
        }
    }
    y += 16;
    if (log && log->dropped)
        note(f, &y, " drop", "the capture lost %" PRIu64 " packets (kernel drops): arrows are "
             "missing and the streams have gaps", log->dropped);
    if (!l->nev)
        note(f, &y, "", "no TCP or UDP packets to draw%s", "");
    if (l->cut_pkts)
        note(f, &y, "", "%" PRIu64 " more packets after these are not drawn (netrig pcap "
             "ladder --max-packets)", l->cut_pkts);
    if (l->gap_bytes)
        note(f, &y, "", "%" PRIu64 " bytes missing from the streams (gaps: the capture lost "
             "them)", l->gap_bytes);
    if (l->undrawable)
        note(f, &y, "", "%" PRIu64 " frames neither TCP nor UDP (not drawn)", l->undrawable);
    fputs("</svg>\n", f);
    free(rows);
}
