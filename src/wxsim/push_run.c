/*
 * push_run.c - the engine of wxsim push (push.h): every attempt is an easy
 * handle on one libcurl multi handle, so that a slow server shows as
 * latency while the offered rate holds (an open loop: a message is sent
 * when it is due, whatever is still in flight).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "wx/core/clock.h"
#include "wxsim/push.h"

/* The largest answer read; a longer one is a malformed reply. */
#define PUSH_ANSWER_MAX     (1u << 20)
/* The longest the loop sleeps: progress and kills stay on time. */
#define PUSH_TICK_MS        50

typedef struct push_engine {
    CURLM              *multi;
    const push_opts_t  *o;
    const push_account_t *a;
    push_stats_t       *st;
    size_t              inflight;
    push_msg_t         *retry_head, *retry_tail;
} push_engine_t;

static size_t sink(char *p, size_t size, size_t n, void *ud)
{
    push_msg_t *m = ud;
    size_t len = size * n;

    if (m->ans_len + len + 1 > m->ans_cap) {
        size_t cap = m->ans_cap ? m->ans_cap : 4096;
        char *b;

        while (cap < m->ans_len + len + 1)
            cap *= 2;
        if (cap > PUSH_ANSWER_MAX || (b = realloc(m->ans, cap)) == NULL)
            return 0;           /* the attempt fails: CURLE_WRITE_ERROR */
        m->ans = b;
        m->ans_cap = cap;
    }
    memcpy(m->ans + m->ans_len, p, len);
    m->ans_len += len;
    m->ans[m->ans_len] = '\0';
    return len;
}

static int start(push_engine_t *e, push_msg_t *m)
{
    if (m->easy)
        curl_easy_cleanup(m->easy);
    m->ans_len = 0;
    if (push_msg_sign(m, e->o, e->a) != 0 || (m->easy = curl_easy_init()) == NULL)
        return -1;
    if (m->hdr == NULL)
        m->hdr = curl_slist_append(NULL, "Content-Type: text/xml");
    curl_easy_setopt(m->easy, CURLOPT_URL, m->url);
    curl_easy_setopt(m->easy, CURLOPT_POSTFIELDS, m->body);
    curl_easy_setopt(m->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(m->body));
    curl_easy_setopt(m->easy, CURLOPT_HTTPHEADER, m->hdr);
    curl_easy_setopt(m->easy, CURLOPT_USERAGENT, "Mozilla/4.0");
    curl_easy_setopt(m->easy, CURLOPT_TIMEOUT_MS, (long)e->o->timeout_ms);
    curl_easy_setopt(m->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(m->easy, CURLOPT_PROXY, "");
    curl_easy_setopt(m->easy, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(m->easy, CURLOPT_WRITEDATA, m);
    curl_easy_setopt(m->easy, CURLOPT_PRIVATE, m);
    curl_easy_setopt(m->easy, CURLOPT_ERRORBUFFER, m->err);
    m->err[0] = '\0';
    if (curl_multi_add_handle(e->multi, m->easy) != CURLM_OK)
        return -1;
    m->attempts++;
    e->st->attempts++;
    if (m->attempts > 1)
        e->st->retries++;
    e->inflight++;
    return 0;
}

static void decide(push_engine_t *e, push_msg_t *m, push_outcome_t out)
{
    m->outcome = out;
    m->latency_ms = wx_now_ms() - m->due_ms;
    e->st->outcomes[out]++;
    push_report_line(m, e->o);
    push_msg_free(m);
}

/* An attempt that failed: again, or the error after the last one. */
static void failed(push_engine_t *e, push_msg_t *m, const char *why)
{
    if (m->attempts <= e->o->retries) {
        m->next = NULL;
        if (e->retry_tail)
            e->retry_tail->next = m;
        else
            e->retry_head = m;
        e->retry_tail = m;
        return;
    }
    snprintf(m->desc, sizeof(m->desc), "the error (last attempt: %s)", why);
    decide(e, m, PUSH_ERROR_SHOWN);
}

static void finished(push_engine_t *e, CURL *easy, CURLcode cc)
{
    push_msg_t *m = NULL;
    long status = 0;
    char why[CURL_ERROR_SIZE + 32];

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&m);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_multi_remove_handle(e->multi, easy);
    e->inflight--;
    if (cc == CURLE_OK && status == 200) {
        decide(e, m, push_msg_judge(m, e->o, e->a));
        return;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(why, sizeof(why), "no answer within %u ms", e->o->timeout_ms);
    else if (cc != CURLE_OK)
        snprintf(why, sizeof(why), "%s", m->err[0] ? m->err : curl_easy_strerror(cc));
    else
        snprintf(why, sizeof(why), "HTTP %ld", status);
    failed(e, m, why);
}

/* The pids to kill: the children of the one pid in the file (the workers
 * of a master), or the pids it lists. */
static size_t kill_targets(const char *file, pid_t *pids, size_t cap)
{
    FILE *f = fopen(file, "r");
    size_t n = 0;
    long v;

    if (f == NULL)
        return 0;
    while (n < cap && fscanf(f, "%ld", &v) == 1)
        pids[n++] = (pid_t)v;
    fclose(f);
    if (n == 1) {
        char path[64];

        snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pids[0],
                 (long)pids[0]);
        if ((f = fopen(path, "r")) != NULL) {
            n = 0;
            while (n < cap && fscanf(f, "%ld", &v) == 1)
                pids[n++] = (pid_t)v;
            fclose(f);
        }
    }
    return n;
}

static void kill_one(push_engine_t *e)
{
    pid_t pids[256];
    size_t n = kill_targets(e->o->kill_pids, pids, 256);
    push_stats_t *st = e->st;

    if (n == 0 || kill(pids[(size_t)random() % n], SIGKILL) != 0)
        return;
    st->kills++;
    if (st->n_kills_at == st->cap_kills_at) {
        size_t cap = st->cap_kills_at ? 2 * st->cap_kills_at : 64;
        long long *k = realloc(st->kill_at_ms, cap * sizeof(*k));

        if (k == NULL)
            return;
        st->kill_at_ms = k;
        st->cap_kills_at = cap;
    }
    st->kill_at_ms[st->n_kills_at++] = wx_now_ms() - st->t0_ms;
}

static void collect(push_engine_t *e)
{
    CURLMsg *cm;
    int left, running;

    curl_multi_perform(e->multi, &running);
    while ((cm = curl_multi_info_read(e->multi, &left)) != NULL)
        if (cm->msg == CURLMSG_DONE)
            finished(e, cm->easy_handle, cm->data.result);
}

/* Start what is due: the retries, then the messages whose time came (one
 * at a time without a rate).  The time of the next one due, or -1. */
static long long start_due(push_engine_t *e, push_msg_t **msgs, size_t n, size_t *next)
{
    long long now = wx_now_ms();

    while (e->retry_head) {
        push_msg_t *m = e->retry_head;

        e->retry_head = m->next;
        if (e->retry_head == NULL)
            e->retry_tail = NULL;
        if (start(e, m) != 0)
            failed(e, m, "cannot build the request");
    }
    while (*next < n) {
        push_msg_t *m = msgs[*next];

        if (e->o->rate <= 0) {
            if (e->inflight)
                return -1;
            m->due_ms = now;
        } else if (m->due_ms > now) {
            return m->due_ms;
        }
        ++*next;
        if (start(e, m) != 0)
            failed(e, m, "cannot build the request");
    }
    return -1;
}

int push_run(push_msg_t **msgs, size_t n, const push_opts_t *o, const push_account_t *a,
             push_stats_t *st)
{
    push_engine_t e = { NULL, o, a, st, 0, NULL, NULL };
    long long next_kill, next_progress;
    size_t next = 0, i;

    if ((e.multi = curl_multi_init()) == NULL)
        return -1;
    srandom((unsigned)getpid());
    st->t0_ms = wx_now_ms();
    st->messages = n;
    for (i = 0; i < n && o->rate > 0; i++)
        msgs[i]->due_ms = st->t0_ms + (long long)((double)i * 1000.0 / o->rate);
    next_kill = o->kill_every_ms ? st->t0_ms + o->kill_every_ms : -1;
    next_progress = st->t0_ms + 1000;
    while (next < n || e.inflight || e.retry_head) {
        long long due = start_due(&e, msgs, n, &next), now = wx_now_ms(), wait = PUSH_TICK_MS;

        if (next_kill >= 0 && now >= next_kill && next < n) {
            kill_one(&e);
            next_kill += o->kill_every_ms;
        }
        if (now >= next_progress) {
            push_report_progress(st, e.inflight, (double)(now - st->t0_ms) / 1000.0);
            next_progress += 1000;
        }
        if (due >= 0 && due - now < wait)
            wait = due - now > 0 ? due - now : 0;
        curl_multi_poll(e.multi, NULL, 0, (int)wait, NULL);
        collect(&e);
    }
    st->elapsed_s = (double)(wx_now_ms() - st->t0_ms) / 1000.0;
    curl_multi_cleanup(e.multi);
    return 0;
}
