/*
 * loadclient: a compiled IMAP/POP3 load client that is not the bottleneck.
 *
 * Does the same operations as the anchors' bench-imap.py and bench-pop3.py (same commands,
 * same op definitions, same output lines) from one epoll loop over N non-blocking
 * connections, parsing answers with memchr/memmem instead of Python's line reader.
 *
 *   loadclient imap|pop3 HOST:PORT [--user U] [--password P] [--connections C]
 *              [--seconds S] [--ops a,b,c] [--pid PID] [--quickack] [--seed N] [--no-warmup]
 *
 * Output (one line per op, as benchlib.Phase.line):
 *   imap HOST:PORT OP N ops in T s = R ops/s  p50 X ms  p99 Y ms  errors E[  M MB/s]
 *        [  server cpu X ms/op (server A%, client B% of a core)]
 * plus "client cpu X ms/op" so the client's own cost per op is visible.
 * IMAP ops: login select fetch_all body search store.  POP3 ops: login stat list uidl retr
 * (bench-pop3.py's optional whole-session op is not implemented).
 * Libc only; built by Benchmarks/bench-server-bound.sh with `cc -O2` into a temporary directory.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { P_IMAP, P_POP3 };
/* How the end of one answer is recognised. */
enum { R_TAGGED, /* IMAP: the line starting with our tag (literals {n} skipped) */
       R_LINE,   /* one line; OK when it starts with the given prefix (greeting, POP3 +OK) */
       R_MULTI   /* POP3 multi-line: +OK line, then lines up to ".\r\n" */ };

#define READ_CHUNK (256 * 1024)
#define MAX_STEPS 4

static int proto;
static char target[300];
static struct sockaddr_in addr;
static const char *user = "demo", *password = "demo";
static int nconn = 4;
static double seconds = 5;
static const char *ops_arg;
static int server_pid;
static int quickack;
static int warmup = 1;
static uint64_t rng_state = 1;
static unsigned *uids;
static size_t nuids;
static long nmsgs;

static void die(const char *fmt, ...) {
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadclient: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_self(void) {
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rnd(void) { /* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

/* ------------------------------------------------------------------ server CPU (/proc) */
/* Sum of utime+stime+cutime+cstime (stat fields 14-17) over root and all descendants, like
 * benchlib.tree_cpu. */
static double tree_cpu(int root) {
	enum { MAXP = 65536 };
	static int pids[MAXP], ppids[MAXP];
	static long long ticks[MAXP];
	int n = 0;
	DIR *d = opendir("/proc");
	if (!d) return 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < MAXP) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
		char path[300], s[1024];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0) continue;
		ssize_t k = read(fd, s, sizeof s - 1);
		close(fd);
		if (k <= 0) continue;
		s[k] = 0;
		char *p = strrchr(s, ')');
		if (!p) continue;
		p += 2; /* state */
		long long f[16];
		int i = 0;
		char *save = NULL;
		for (char *tok = strtok_r(p, " ", &save); tok && i < 16; tok = strtok_r(NULL, " ", &save)) {
			f[i] = i == 0 ? 0 : atoll(tok);
			i++;
		}
		if (i < 16) continue;
		pids[n] = atoi(e->d_name);
		ppids[n] = (int)f[1];
		ticks[n] = f[11] + f[12] + f[13] + f[14];
		n++;
	}
	closedir(d);
	/* breadth-first over the parent links */
	static int in_tree[MAXP];
	memset(in_tree, 0, sizeof(int) * n);
	long long total = 0;
	int changed = 1;
	for (int i = 0; i < n; i++)
		if (pids[i] == root) { in_tree[i] = 1; total += ticks[i]; }
	while (changed) {
		changed = 0;
		for (int i = 0; i < n; i++) {
			if (in_tree[i]) continue;
			for (int j = 0; j < n; j++)
				if (in_tree[j] && pids[j] == ppids[i]) { in_tree[i] = 1; total += ticks[i]; changed = 1; break; }
		}
	}
	return (double)total / sysconf(_SC_CLK_TCK);
}

/* ------------------------------------------------------------------ answers */
/* Parser state of one answer; buf holds the not yet consumed bytes of the stream. */
typedef struct {
	char *buf;
	size_t len, cap;
	int kind;
	const char *okprefix; /* R_LINE */
	char tag[24];         /* R_TAGGED */
	size_t taglen;
	size_t scan;          /* next byte to look at */
	long long base;       /* stream offset (within this answer) of buf[0] */
	size_t skip;          /* IMAP: literal bytes still to skip */
	int line_start;       /* IMAP: scan is at the start of a line */
	int first_done;       /* POP3 multi: status line seen */
	long long cstart;     /* POP3 multi: offset where the content starts */
	int keep;             /* keep the whole answer in buf (discovery) */
	/* results */
	int ok;
	long long nbytes;
	size_t end;           /* index in buf just past the answer */
} answer;

static void answer_begin(answer *a, int kind, const char *okprefix, const char *tag) {
	a->kind = kind;
	a->okprefix = okprefix;
	if (tag) { snprintf(a->tag, sizeof a->tag, "%s ", tag); a->taglen = strlen(a->tag); }
	a->scan = 0; a->base = 0; a->skip = 0; a->line_start = 1; a->first_done = 0; a->cstart = 0;
	a->ok = 0; a->nbytes = 0; a->end = 0;
}

/* Looks at the bytes received so far: 1 = answer complete (a->ok, a->nbytes, a->end set),
 * 0 = more bytes needed. */
static int answer_parse(answer *a) {
	char *b = a->buf;
	if (a->kind == R_LINE) {
		char *nl = memchr(b, '\n', a->len);
		if (!nl) return 0;
		size_t plen = strlen(a->okprefix);
		a->ok = a->len >= plen && memcmp(b, a->okprefix, plen) == 0;
		a->end = nl - b + 1;
		return 1;
	}
	if (a->kind == R_MULTI) {
		if (!a->first_done) {
			char *nl = memchr(b, '\n', a->len);
			if (!nl) return 0;
			size_t e = nl - b + 1;
			if (a->len < 3 || memcmp(b, "+OK", 3) != 0) { a->ok = 0; a->end = e; return 1; }
			a->first_done = 1;
			a->cstart = e;
			a->scan = e >= 2 ? e - 2 : 0; /* the CRLF that ends the status line */
		}
		char *t = memmem(b + a->scan, a->len - a->scan, "\r\n.\r\n", 5);
		if (t) {
			size_t f = t - b;
			a->ok = 1;
			a->nbytes = a->base + (long long)f + 2 - a->cstart;
			a->end = f + 5;
			return 1;
		}
		if (a->len >= 4 && a->len - 4 > a->scan) a->scan = a->len - 4;
		return 0;
	}
	/* R_TAGGED */
	for (;;) {
		if (a->skip) {
			size_t have = a->len - a->scan;
			if (have < a->skip) { a->skip -= have; a->scan = a->len; return 0; }
			a->scan += a->skip;
			a->skip = 0;
			a->line_start = 0;
		}
		char *nl = memchr(b + a->scan, '\n', a->len - a->scan);
		if (!nl) return 0;
		size_t s = a->scan, e = nl - b + 1; /* line [s, e) */
		/* a literal: the line ends with {n}\r\n or {n+}\r\n */
		size_t q = e - 1;
		if (q > s && b[q - 1] == '\r') q--;
		if (q > s && b[q - 1] == '}') {
			size_t r = q - 1, digits_end;
			if (r > s && b[r - 1] == '+') r--;
			digits_end = r;
			while (r > s && b[r - 1] >= '0' && b[r - 1] <= '9') r--;
			if (r > s && b[r - 1] == '{' && r < digits_end) {
				a->skip = strtoull(b + r, NULL, 10);
				a->scan = e;
				if (a->skip == 0) a->line_start = 0;
				continue;
			}
		}
		if (a->line_start && e - s >= a->taglen && memcmp(b + s, a->tag, a->taglen) == 0) {
			a->ok = e - s >= a->taglen + 2 && memcmp(b + s + a->taglen, "OK", 2) == 0;
			a->nbytes = a->base + (long long)e;
			a->end = e;
			return 1;
		}
		a->line_start = 1;
		a->scan = e;
	}
}

/* Drops the bytes before scan that the parser is done with (never for kept answers). */
static void answer_compact(answer *a) {
	if (a->keep || a->scan < 65536) return;
	size_t drop = a->scan;
	if (a->kind == R_MULTI && !a->first_done) return;
	memmove(a->buf, a->buf + drop, a->len - drop);
	a->len -= drop;
	a->scan -= drop;
	a->base += drop;
}

/* Removes the consumed answer from the buffer (bytes after it stay, e.g. unsolicited data). */
static void answer_consume(answer *a) {
	memmove(a->buf, a->buf + a->end, a->len - a->end);
	a->len -= a->end;
}

static void ensure_room(answer *a) {
	if (a->cap - a->len >= READ_CHUNK) return;
	size_t nc = a->cap ? a->cap : READ_CHUNK * 2;
	while (nc - a->len < READ_CHUNK) nc *= 2;
	a->buf = realloc(a->buf, nc);
	if (!a->buf) die("out of memory");
	a->cap = nc;
}

/* ------------------------------------------------------------------ connections */
typedef struct step { int kind; char cmd[160]; } step;

typedef struct conn {
	int fd;
	answer a;
	unsigned ntag;
	int fresh;          /* the op opens and closes its own connection */
	step steps[MAX_STEPS];
	int nsteps, si;
	double t0;          /* start of the running op */
	double resume_at;   /* > 0: waiting after an error */
	int busy, done, broken;
	long retr_i;
	int k;
} conn;

static int open_socket(int nonblock_connect) {
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock_connect ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) return -1;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as asyncio does */
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	if (!nonblock_connect) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

static void set_quickack(int fd) {
	if (quickack) { int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one); }
}

/* Sends a command line; the kind of answer it expects is set up in c->a. */
static int send_cmd(conn *c, int kind, const char *cmd) {
	char line[256];
	const char *okp = proto == P_IMAP ? "* OK" : "+OK";
	char tag[16] = "";
	size_t n;
	if (!cmd) { /* the greeting */
		answer_begin(&c->a, R_LINE, okp, NULL);
		return 0;
	}
	if (proto == P_IMAP) {
		snprintf(tag, sizeof tag, "a%u", ++c->ntag);
		n = snprintf(line, sizeof line, "%s %s\r\n", tag, cmd);
		answer_begin(&c->a, R_TAGGED, NULL, tag);
	} else {
		n = snprintf(line, sizeof line, "%s\r\n", cmd);
		answer_begin(&c->a, kind, "+OK", NULL);
	}
	ssize_t w = send(c->fd, line, n, MSG_NOSIGNAL);
	return w == (ssize_t)n ? 0 : -1;
}

/* Reads what is there (non-blocking); -1 on EOF or error, 0 otherwise. */
static int read_some(conn *c) {
	for (;;) {
		ensure_room(&c->a);
		ssize_t r = recv(c->fd, c->a.buf + c->a.len, c->a.cap - c->a.len, 0);
		if (r > 0) { c->a.len += r; return 0; }
		if (r == 0) return -1;
		if (errno == EINTR) continue;
		if (errno == EAGAIN) return 0;
		return -1;
	}
}

/* Blocking exchange for untimed setup, discovery and teardown: 1 = OK, 0 = NO/-ERR, -1 = broken. */
static int exchange(conn *c, int kind, const char *cmd, double timeout) {
	if (send_cmd(c, kind, cmd) < 0) return -1;
	double end = now() + timeout;
	while (!answer_parse(&c->a)) {
		answer_compact(&c->a);
		struct pollfd p = { c->fd, POLLIN, 0 };
		int ms = (int)((end - now()) * 1000);
		if (ms <= 0 || poll(&p, 1, ms) <= 0) return -1;
		if (read_some(c) < 0) return -1;
	}
	int ok = c->a.ok;
	if (!c->a.keep) answer_consume(&c->a);
	return ok;
}

static int authed(conn *c) {
	char cmd[200];
	c->fd = open_socket(0);
	if (c->fd < 0) return -1;
	c->a.len = 0;
	if (exchange(c, R_LINE, NULL, 10) != 1) return -1;
	if (proto == P_IMAP) {
		snprintf(cmd, sizeof cmd, "LOGIN \"%s\" \"%s\"", user, password);
		if (exchange(c, R_TAGGED, cmd, 10) != 1) return -1;
		if (exchange(c, R_TAGGED, "SELECT INBOX", 60) != 1) return -1;
	} else {
		snprintf(cmd, sizeof cmd, "USER %s", user);
		if (exchange(c, R_LINE, cmd, 10) != 1) return -1;
		snprintf(cmd, sizeof cmd, "PASS %s", password);
		if (exchange(c, R_LINE, cmd, 10) != 1) return -1;
	}
	return 0;
}

static void logout(conn *c) {
	if (c->fd < 0) return;
	exchange(c, proto == P_IMAP ? R_TAGGED : R_LINE, proto == P_IMAP ? "LOGOUT" : "QUIT", 5);
	close(c->fd);
	c->fd = -1;
}

/* ------------------------------------------------------------------ operations */
static const char *op_name;
static const char *words[] = { "alice", "bob", "report", "meeting", "invoice", "release", "budget", "carol" };
static const char *criteria[] = { "FROM %s", "SUBJECT %s", "UNSEEN", "SINCE 1-Mar-2024 FROM %s", "FLAGGED" };

/* Fills c->steps with the commands of one op of op_name. */
static void plan_op(conn *c) {
	step *s = c->steps;
	c->nsteps = 0;
	c->fresh = strcmp(op_name, "login") == 0 || strcmp(op_name, "session") == 0;
#define ADD(K, ...) do { s[c->nsteps].kind = (K); snprintf(s[c->nsteps].cmd, sizeof s[0].cmd, __VA_ARGS__); c->nsteps++; } while (0)
	if (proto == P_IMAP) {
		if (!strcmp(op_name, "login")) {
			ADD(R_LINE, "%s", ""); /* greeting */
			ADD(R_TAGGED, "LOGIN \"%s\" \"%s\"", user, password);
			ADD(R_TAGGED, "LOGOUT");
		} else if (!strcmp(op_name, "select")) {
			ADD(R_TAGGED, "SELECT INBOX");
		} else if (!strcmp(op_name, "fetch_all")) {
			ADD(R_TAGGED, "FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)");
		} else if (!strcmp(op_name, "body")) {
			ADD(R_TAGGED, "UID FETCH %u BODY.PEEK[]", uids[rnd() % nuids]);
		} else if (!strcmp(op_name, "search")) {
			const char *q = criteria[rnd() % 5];
			char w[40], crit[80];
			snprintf(w, sizeof w, "\"%s\"", words[rnd() % 8]);
			if (strstr(q, "%s")) snprintf(crit, sizeof crit, q, w); else snprintf(crit, sizeof crit, "%s", q);
			ADD(R_TAGGED, "UID SEARCH %s", crit);
		} else if (!strcmp(op_name, "store")) {
			char sign = rnd() & 1 ? '+' : '-';
			ADD(R_TAGGED, "UID STORE %u %cFLAGS.SILENT (\\Flagged)", uids[rnd() % nuids], sign);
		}
	} else {
		if (!strcmp(op_name, "login")) {
			ADD(R_LINE, "%s", "");
			ADD(R_LINE, "USER %s", user);
			ADD(R_LINE, "PASS %s", password);
			ADD(R_LINE, "QUIT");
		} else if (!strcmp(op_name, "stat")) {
			ADD(R_LINE, "STAT");
		} else if (!strcmp(op_name, "list")) {
			ADD(R_MULTI, "LIST");
		} else if (!strcmp(op_name, "uidl")) {
			ADD(R_MULTI, "UIDL");
		} else if (!strcmp(op_name, "retr")) {
			c->retr_i = c->retr_i % nmsgs + 1;
			ADD(R_MULTI, "RETR %ld", c->retr_i);
		}
	}
#undef ADD
}

/* ------------------------------------------------------------------ one timed phase */
typedef struct {
	double *lat;
	size_t n, cap;
	long errors;
	long long bytes;
	char first_error[200];
} phase;

static void phase_add(phase *p, double t, long long nbytes) {
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 65536;
		p->lat = realloc(p->lat, p->cap * sizeof(double));
		if (!p->lat) die("out of memory");
	}
	p->lat[p->n++] = t;
	p->bytes += nbytes;
}

static void phase_fail(phase *p, const char *fmt, ...) {
	p->errors++;
	if (!p->first_error[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->first_error, sizeof p->first_error, fmt, ap);
		va_end(ap);
	}
}

static int cmp_double(const void *x, const void *y) {
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static double pct(const double *v, size_t n, double p) {
	if (!n) return 0.0 / 0.0;
	double x = p / 100.0 * (n - 1);
	long i = (long)(x + 0.5);
	if (i < 0) i = 0;
	if ((size_t)i > n - 1) i = n - 1;
	return v[i];
}

static int ep;
static phase ph;
static double deadline;

static void step_send(conn *c) {
	step *s = &c->steps[c->si];
	set_quickack(c->fd);
	if (c->fresh && c->si == 0) { send_cmd(c, R_LINE, NULL); return; } /* wait for the greeting */
	if (send_cmd(c, s->kind, s->cmd) < 0) {
		c->broken = 1;
	}
}

static void conn_close_fresh(conn *c) {
	if (c->fd >= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); c->fd = -1; }
}

static void start_op(conn *c, double t) {
	if (t >= deadline) { c->done = 1; c->busy = 0; return; }
	plan_op(c);
	c->si = 0;
	c->t0 = now();
	c->busy = 1;
	if (c->fresh) {
		c->fd = open_socket(1);
		c->a.len = 0;
		c->ntag = 0;
		if (c->fd < 0) { phase_fail(&ph, "connect: %s", strerror(errno)); c->busy = 0; c->resume_at = t + 0.01; return; }
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	step_send(c);
	if (c->broken) { phase_fail(&ph, "send failed"); c->busy = 0; c->done = 1; }
}

/* Called when c->fd is readable. */
static void on_readable(conn *c) {
	if (read_some(c) < 0) {
		phase_fail(&ph, "%s: connection closed", op_name);
		if (c->fresh) { conn_close_fresh(c); c->busy = 0; c->resume_at = now() + 0.01; return; }
		c->broken = 1; c->busy = 0; c->done = 1;
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		return;
	}
	while (c->busy && answer_parse(&c->a)) {
		int ok = c->a.ok;
		long long nb = c->a.nbytes;
		answer_consume(&c->a);
		if (!ok) {
			phase_fail(&ph, "%s -> error answer", c->fresh && c->si == 0 ? "greeting" : c->steps[c->si].cmd);
			c->busy = 0;
			if (c->fresh) conn_close_fresh(c);
			c->resume_at = now() + 0.01;
			return;
		}
		if (++c->si < c->nsteps) {
			step_send(c);
			if (c->broken) { phase_fail(&ph, "send failed"); c->busy = 0; c->done = 1; return; }
			continue;
		}
		double t = now();
		/* bytes as the Python clients count them: IMAP all answer bytes (body, fetch_all),
		 * POP3 the content lines of multi-line answers */
		int count = proto == P_POP3 ? 1 : (!strcmp(op_name, "fetch_all") || !strcmp(op_name, "body"));
		phase_add(&ph, t - c->t0, count ? nb : 0);
		c->busy = 0;
		if (c->fresh) conn_close_fresh(c);
		start_op(c, t);
		return;
	}
	if (c->busy) answer_compact(&c->a);
}

static double run_phase(conn *cs, const char *name) {
	op_name = name;
	memset(&ph, 0, sizeof ph);
	int fresh = !strcmp(name, "login");
	for (int k = 0; k < nconn; k++) {
		conn *c = &cs[k];
		c->fd = -1; c->busy = c->done = c->broken = 0; c->resume_at = 0; c->a.keep = 0; c->a.len = 0;
		c->ntag = 0; c->k = k;
		c->retr_i = nmsgs ? (k * 7919L) % nmsgs : 0;
		if (!fresh) {
			if (authed(c) < 0) { phase_fail(&ph, "setup failed"); c->done = 1; if (c->fd >= 0) close(c->fd); c->fd = -1; continue; }
			struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
			epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		}
	}
	double cpu0 = server_pid ? tree_cpu(server_pid) : 0;
	double client0 = cpu_self();
	double t0 = now();
	deadline = t0 + seconds;
	for (int k = 0; k < nconn; k++)
		if (!cs[k].done) start_op(&cs[k], t0);
	struct epoll_event evs[256];
	for (;;) {
		int live = 0;
		double t = now(), next = 0;
		for (int k = 0; k < nconn; k++) {
			conn *c = &cs[k];
			if (c->done) continue;
			if (!c->busy) {
				if (c->resume_at > t) { if (!next || c->resume_at < next) next = c->resume_at; live++; continue; }
				c->resume_at = 0;
				start_op(c, t);
				if (c->done) continue;
			}
			live++;
		}
		if (!live) break;
		int timeout = next ? (int)((next - t) * 1000) + 1 : 1000;
		int n = epoll_wait(ep, evs, 256, timeout);
		for (int i = 0; i < n; i++) {
			conn *c = evs[i].data.ptr;
			if (c->busy) on_readable(c);
		}
	}
	double elapsed = now() - t0;
	double client_cpu = cpu_self() - client0;
	double server_cpu = server_pid ? tree_cpu(server_pid) - cpu0 : 0;
	for (int k = 0; k < nconn; k++) {
		conn *c = &cs[k];
		if (c->fd >= 0) {
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			c->a.len = 0;
			logout(c);
		}
	}
	qsort(ph.lat, ph.n, sizeof(double), cmp_double);
	double rate = elapsed > 0 ? ph.n / elapsed : 0;
	char extra[300] = "";
	size_t el = 0;
	if (ph.bytes) el += snprintf(extra + el, sizeof extra - el, "  %.1f MB/s", ph.bytes / elapsed / 1e6);
	if (server_pid && elapsed > 0)
		el += snprintf(extra + el, sizeof extra - el, "  server cpu %.3f ms/op (server %.0f%%, client %.0f%% of a core)",
			       server_cpu * 1000 / (ph.n ? ph.n : 1), 100 * server_cpu / elapsed, 100 * client_cpu / elapsed);
	el += snprintf(extra + el, sizeof extra - el, "  client cpu %.4f ms/op", client_cpu * 1000 / (ph.n ? ph.n : 1));
	printf("%s %s %-9s %6zu %s in %5.2f s = %8.1f %s/s  p50 %7.2f ms  p99 %7.2f ms  errors %ld%s",
	       proto == P_IMAP ? "imap" : "pop3", target, name, ph.n, "ops", elapsed, rate, "ops",
	       pct(ph.lat, ph.n, 50) * 1000, pct(ph.lat, ph.n, 99) * 1000, ph.errors, extra);
	if (ph.first_error[0]) printf("  (first error: %s)", ph.first_error);
	printf("\n");
	fflush(stdout);
	free(ph.lat);
	return rate;
}

/* ------------------------------------------------------------------ discovery */
static void discover(void) {
	conn c;
	memset(&c, 0, sizeof c);
	if (authed(&c) < 0) die("cannot log in to %s", target);
	if (proto == P_IMAP) {
		c.a.keep = 1;
		if (exchange(&c, R_TAGGED, "UID SEARCH ALL", 60) != 1) die("UID SEARCH ALL failed");
		size_t cap = 1024;
		uids = malloc(cap * sizeof *uids);
		char *p = c.a.buf, *end = c.a.buf + c.a.end;
		while (p < end) {
			char *nl = memchr(p, '\n', end - p);
			if (!nl) break;
			if (nl - p > 8 && memcmp(p, "* SEARCH", 8) == 0) {
				char *q = p + 8;
				while (q < nl) {
					while (q < nl && (*q == ' ' || *q == '\r')) q++;
					if (q >= nl) break;
					if (nuids == cap) { cap *= 2; uids = realloc(uids, cap * sizeof *uids); }
					uids[nuids++] = (unsigned)strtoul(q, &q, 10);
				}
			}
			p = nl + 1;
		}
		answer_consume(&c.a);
		c.a.keep = 0;
		if (nuids && warmup) exchange(&c, R_TAGGED, "FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)", 300);
		printf("imap %s mailbox INBOX has %zu messages; %d connections, %.0f s per operation\n", target, nuids, nconn, seconds);
	} else {
		c.a.keep = 1;
		if (exchange(&c, R_LINE, "STAT", 10) != 1) die("STAT failed");
		nmsgs = strtol(c.a.buf + 4, NULL, 10);
		answer_consume(&c.a);
		c.a.keep = 0;
		printf("pop3 %s maildrop has %ld messages; %d connections, %.0f s per operation\n", target, nmsgs, nconn, seconds);
	}
	fflush(stdout);
	logout(&c);
	free(c.a.buf);
}

int main(int argc, char **argv) {
	if (argc < 3) die("usage: loadclient imap|pop3 HOST:PORT [--user U] [--password P] [--connections C] [--seconds S] [--ops a,b] [--pid PID] [--quickack] [--seed N] [--no-warmup]");
	if (!strcmp(argv[1], "imap")) proto = P_IMAP;
	else if (!strcmp(argv[1], "pop3")) proto = P_POP3;
	else die("unknown protocol %s", argv[1]);
	ops_arg = proto == P_IMAP ? "login,select,fetch_all,body,search,store" : "login,stat,list,uidl,retr";
	for (int i = 3; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--quickack")) { quickack = 1; continue; }
		if (!strcmp(o, "--no-warmup")) { warmup = 0; continue; }
		if (!v) die("%s needs a value", o);
		i++;
		if (!strcmp(o, "--user")) user = v;
		else if (!strcmp(o, "--password")) password = v;
		else if (!strcmp(o, "--connections") || !strcmp(o, "-c")) nconn = atoi(v);
		else if (!strcmp(o, "--seconds") || !strcmp(o, "-s")) seconds = atof(v);
		else if (!strcmp(o, "--ops")) ops_arg = v;
		else if (!strcmp(o, "--pid")) server_pid = atoi(v);
		else if (!strcmp(o, "--seed")) rng_state = strtoull(v, NULL, 10) * 0x9E3779B97F4A7C15ULL | 1;
		else die("unknown option %s", o);
	}
	if (nconn < 1) die("--connections must be at least 1");
	char hostbuf[256];
	const char *colon = strrchr(argv[2], ':');
	if (!colon) die("target must be HOST:PORT");
	snprintf(hostbuf, sizeof hostbuf, "%.*s", (int)(colon - argv[2]), argv[2]);
	if (!hostbuf[0]) snprintf(hostbuf, sizeof hostbuf, "127.0.0.1");
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons(atoi(colon + 1));
	if (inet_pton(AF_INET, hostbuf, &addr.sin_addr) != 1) die("HOST must be an IPv4 address: %s", hostbuf);
	snprintf(target, sizeof target, "%s:%d", hostbuf, atoi(colon + 1));

	discover();
	ep = epoll_create1(EPOLL_CLOEXEC);
	conn *cs = calloc(nconn, sizeof *cs);
	char summary[1024] = "";
	size_t sl = 0;
	char *ops = strdup(ops_arg);
	char *save = NULL;
	for (char *name = strtok_r(ops, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int known = proto == P_IMAP
			? (!strcmp(name, "login") || !strcmp(name, "select") || !strcmp(name, "fetch_all") || !strcmp(name, "body") || !strcmp(name, "search") || !strcmp(name, "store"))
			: (!strcmp(name, "login") || !strcmp(name, "stat") || !strcmp(name, "list") || !strcmp(name, "uidl") || !strcmp(name, "retr"));
		if (!known) die("unknown op %s", name);
		if ((proto == P_IMAP && !nuids && (strcmp(name, "login") && strcmp(name, "select") && strcmp(name, "search"))) ||
		    (proto == P_POP3 && !nmsgs && !strcmp(name, "retr"))) {
			printf("%s %s %-9s skipped: empty mailbox\n", argv[1], target, name);
			continue;
		}
		double rate = run_phase(cs, name);
		sl += snprintf(summary + sl, sizeof summary - sl, "%s%s=%.1f", sl ? " " : "", name, rate);
	}
	if (sl) {
		if (proto == P_IMAP)
			printf("imap %s summary %s ops/s (%d conns, %.0f s each, %zu msgs)\n", target, summary, nconn, seconds, nuids);
		else
			printf("pop3 %s summary %s ops/s (%d conns, %.0f s each, %ld msgs)\n", target, summary, nconn, seconds, nmsgs);
	}
	return 0;
}
