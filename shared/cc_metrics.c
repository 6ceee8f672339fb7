/*
 * cc_metrics.c: the node's counters in one anonymous shared memory segment
 * (cc_metrics.h).
 *
 * Names (route templates, job names) are interned into fixed tables of the segment: a
 * name hashes to its first slot, and probing claims the first free one with a
 * compare-and-swap (0 free, 1 being written, 2 ready), so two children that meet a new
 * route at once agree on one slot without a lock.  Counters are indexed by slot,
 * method and status; a histogram keeps per-bucket counts, rendered cumulatively, with
 * its count taken from the buckets so that the +Inf bucket always equals it.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <stdarg.h>
#include <unistd.h>

#include <httpd.h>
#include <http_log.h>
#include <apr_atomic.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "cc_log.h"
#include "cc_metrics.h"

#define SEG_MAGIC 0x43434d32u /* "CCM2": the layout below; a new layout, a new magic */

#define SLOT_FREE    0u
#define SLOT_WRITING 1u
#define SLOT_READY   2u
/* Waits for a slot another child is writing (a few instructions); past it the slot is
 * taken as lost (its writer died) and probing goes on. */
#define SLOT_SPINS   1000

static const char *const method_names[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                            "OPTIONS", "other" };
#define N_METHODS ((int)(sizeof(method_names) / sizeof(method_names[0])))

/* The statuses the API and httpd answer with; any other is counted as "other". */
static const int status_codes[] = { 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
                                    400, 401, 403, 404, 405, 406, 408, 409, 410, 411, 412,
                                    413, 414, 415, 416, 417, 421, 422, 426, 428, 429, 431,
                                    500, 501, 502, 503, 504, 505 };
#define STATUS_CODES ((int)(sizeof(status_codes) / sizeof(status_codes[0])))
#define STATUSES     (STATUS_CODES + 1)

/* Upper bounds in microseconds and as rendered. */
#define HIST_MAX 15
typedef struct {
    int n;                               /* finite buckets; +Inf follows */
    apr_uint64_t le_us[HIST_MAX];
    const char *le[HIST_MAX];
} bounds_t;

static const bounds_t request_bounds = {
    14,
    { 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
      5000000, 10000000 },
    { "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
      "1", "2.5", "5", "10" }
};

static const bounds_t acquire_bounds = {
    12,
    { 100, 250, 500, 1000, 2500, 5000, 10000, 50000, 100000, 500000, 1000000, 5000000 },
    { "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.05", "0.1",
      "0.5", "1", "5" }
};

typedef struct {
    volatile apr_uint64_t bucket[HIST_MAX + 1];
    volatile apr_uint64_t sum_us;
} hist_t;

typedef struct {
    volatile apr_uint32_t state;
    char name[CC_METRICS_NAME_MAX + 1];
} name_slot_t;

/* One process's connections in use (cc_metrics_child_init): pid 0 is a free place, and a
 * place whose process is gone is free again, its count with it. */
#define CC_METRICS_PROCS 256
typedef struct {
    volatile apr_uint32_t pid;
    volatile apr_uint64_t in_use;         /* two's complement, as db_in_use_rest */
} proc_slot_t;

typedef struct {
    apr_uint32_t magic;
    name_slot_t routes[CC_METRICS_ROUTES];
    name_slot_t jobs[CC_METRICS_JOBS];
    volatile apr_uint64_t requests[CC_METRICS_ROUTES][N_METHODS][STATUSES];
    hist_t latency[CC_METRICS_ROUTES][N_METHODS];
    /* Connections in use, by process (proc_slot_t): a child that dies holding some
     * (a crash, kill -9) must not leave them counted. */
    proc_slot_t procs[CC_METRICS_PROCS];
    volatile apr_uint64_t db_in_use_rest; /* processes without a place; two's complement:
                                            a release may be counted before its acquire
                                            is seen */
    volatile apr_uint64_t db_acquires;
    volatile apr_uint64_t db_failures;
    hist_t db_wait;
    volatile apr_uint64_t events[CC_METRICS_EVENT_TRANSPORTS];
    volatile apr_uint64_t stream_clients;
    volatile apr_uint64_t job_runs[CC_METRICS_JOBS];
    volatile apr_uint64_t job_failures[CC_METRICS_JOBS];
    volatile apr_uint64_t job_last_ok[CC_METRICS_JOBS];
    volatile apr_uint64_t sms[CC_METRICS_SMS_OUTCOMES];
    volatile apr_uint64_t webhook[CC_METRICS_WEBHOOK_COUNTS];
    volatile apr_uint64_t dropped_routes;
    volatile apr_uint64_t dropped_jobs;
} seg_t;

/* This module's view of the node's segment: set in the parent's post_config, before any
 * child exists, and only read afterwards. */
static seg_t *seg;

/* A failure is remembered under the key (this value: each module has its own copy of this
 * file), so that the node's other modules do not try, and log, again in the same cycle. */
#define SHM_FAILED ((void *)1)

void *cc_node_shm(server_rec *s, const char *key, apr_size_t size, apr_status_t *prv)
{
    apr_pool_t *pproc = s->process->pool;
    apr_shm_t *shm = NULL;
    void *data = NULL;

    *prv = APR_SUCCESS;
    apr_pool_userdata_get(&data, key, pproc);
    if (data) {
        return data == SHM_FAILED ? NULL : data;
    }
    /* Anonymous: nothing on disk, inherited by every fork of the parent. */
    if ((*prv = apr_shm_create(&shm, size, NULL, pproc)) != APR_SUCCESS) {
        apr_pool_userdata_set(SHM_FAILED, key, apr_pool_cleanup_null, pproc);
        return NULL;
    }
    data = apr_shm_baseaddr_get(shm);
    memset(data, 0, size);
    /* The cleanup is APR's own (the segment's, in pproc): none of a module's code is
     * called after its DSO is unloaded at a restart. */
    apr_pool_userdata_set(data, key, apr_pool_cleanup_null, pproc);
    return data;
}

void cc_metrics_attach(server_rec *s)
{
    apr_status_t rv;

    seg = cc_node_shm(s, "cc_metrics_segment", sizeof(seg_t), &rv);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, CCLOGNO(00311)
                     "no shared memory for metrics (%" APR_SIZE_T_FMT " bytes): /metrics "
                     "will have no series", sizeof(seg_t));
    }
    else if (seg && seg->magic == 0) {
        seg->magic = SEG_MAGIC;       /* made now, zeroed: the parent, before any child */
    }
}

int cc_metrics_enabled(void)
{
    return seg && seg->magic == SEG_MAGIC;
}

/* FNV-1a over at most len bytes. */
static apr_uint32_t name_hash(const char *name, apr_size_t len)
{
    apr_uint32_t h = 2166136261u;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)name[i]) * 16777619u;
    }
    return h;
}

/* The slot of name in table (n slots), claimed if new; -1 when the table is full. */
static int intern(name_slot_t *table, int n, const char *name)
{
    apr_size_t len = strnlen(name, CC_METRICS_NAME_MAX);
    apr_uint32_t h = name_hash(name, len);
    int i;

    for (i = 0; i < n; i++) {
        int idx = (int)((h + (apr_uint32_t)i) % (apr_uint32_t)n);
        name_slot_t *slot = &table[idx];
        apr_uint32_t state = apr_atomic_read32(&slot->state);
        int spins = 0;

        if (state == SLOT_FREE) {
            if (apr_atomic_cas32(&slot->state, SLOT_WRITING, SLOT_FREE) == SLOT_FREE) {
                memcpy(slot->name, name, len);
                slot->name[len] = '\0';
                /* A full barrier: the name is visible before the slot says ready. */
                apr_atomic_xchg32(&slot->state, SLOT_READY);
                return idx;
            }
            state = apr_atomic_read32(&slot->state);
        }
        while (state == SLOT_WRITING && spins++ < SLOT_SPINS) {
            sched_yield();
            state = apr_atomic_read32(&slot->state);
        }
        if (state == SLOT_READY && strncmp(slot->name, name, len) == 0
            && slot->name[len] == '\0') {
            return idx;
        }
    }
    return -1;
}

static int method_index(const char *method)
{
    int i;

    for (i = 0; method && i < N_METHODS - 1; i++) {
        if (strcmp(method, method_names[i]) == 0) {
            return i;
        }
    }
    return N_METHODS - 1;
}

static int status_index(int status)
{
    int lo = 0, hi = STATUS_CODES - 1;

    while (lo <= hi) {
        int mid = (lo + hi) / 2;

        if (status_codes[mid] == status) {
            return mid;
        }
        if (status_codes[mid] < status) {
            lo = mid + 1;
        }
        else {
            hi = mid - 1;
        }
    }
    return STATUS_CODES;
}

static void observe(hist_t *h, const bounds_t *b, apr_interval_time_t us)
{
    apr_uint64_t v = us < 0 ? 0 : (apr_uint64_t)us;
    int i = 0;

    while (i < b->n && v > b->le_us[i]) {
        i++;
    }
    apr_atomic_inc64(&h->bucket[i]);
    apr_atomic_add64(&h->sum_us, v);
}

#define NOTE_ROUTE  "cc-metrics-route"
#define NOTE_STREAM "cc-metrics-stream"

void cc_metrics_route(request_rec *r, const char *pattern)
{
    apr_table_setn(r->notes, NOTE_ROUTE, pattern);
}

void cc_metrics_streaming(request_rec *r)
{
    apr_table_setn(r->notes, NOTE_STREAM, "1");
}

/* A note of the request or of any it was redirected from or to. */
static const char *chain_note(request_rec *r, const char *name)
{
    request_rec *q;
    const char *v;

    for (q = r; q; q = q->next) {
        if ((v = apr_table_get(q->notes, name))) {
            return v;
        }
    }
    for (q = r->prev; q; q = q->prev) {
        if ((v = apr_table_get(q->notes, name))) {
            return v;
        }
    }
    return NULL;
}

void cc_metrics_request(request_rec *r)
{
    request_rec *last = r;
    const char *route;
    int slot, m, st;

    if (!cc_metrics_enabled()) {
        return;
    }
    while (last->next) {
        last = last->next;
    }
    route = chain_note(r, NOTE_ROUTE);
    slot = intern(seg->routes, CC_METRICS_ROUTES, route ? route : "unmatched");
    if (slot < 0) {
        apr_atomic_inc64(&seg->dropped_routes);
        return;
    }
    m = method_index(r->method);
    st = status_index(last->status);
    apr_atomic_inc64(&seg->requests[slot][m][st]);
    if (!chain_note(r, NOTE_STREAM)) {
        observe(&seg->latency[slot][m], &request_bounds, apr_time_now() - r->request_time);
    }
}

/* This process's place in seg->procs (cc_metrics_child_init), NULL outside a child. */
static proc_slot_t *my_proc;

static int proc_alive(apr_uint32_t pid)
{
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

void cc_metrics_child_init(void)
{
    apr_uint32_t me = (apr_uint32_t)getpid();
    int i;

    my_proc = NULL;
    if (!cc_metrics_enabled()) {
        return;
    }
    /* The place another module took for this process already, else a free one. */
    for (i = 0; i < CC_METRICS_PROCS; i++) {
        if (apr_atomic_read32(&seg->procs[i].pid) == me) {
            my_proc = &seg->procs[i];
            return;
        }
    }
    for (i = 0; i < CC_METRICS_PROCS; i++) {
        proc_slot_t *ps = &seg->procs[i];
        apr_uint32_t pid = apr_atomic_read32(&ps->pid);

        if ((pid == 0 || !proc_alive(pid)) && apr_atomic_cas32(&ps->pid, me, pid) == pid) {
            apr_atomic_set64(&ps->in_use, 0);
            my_proc = ps;
            return;
        }
    }
}

static volatile apr_uint64_t *in_use_counter(void)
{
    return my_proc ? &my_proc->in_use : &seg->db_in_use_rest;
}

void cc_metrics_db_acquired(apr_interval_time_t waited, int ok)
{
    if (!cc_metrics_enabled()) {
        return;
    }
    if (ok) {
        apr_atomic_inc64(&seg->db_acquires);
        apr_atomic_inc64(in_use_counter());
    }
    else {
        apr_atomic_inc64(&seg->db_failures);
    }
    observe(&seg->db_wait, &acquire_bounds, waited);
}

void cc_metrics_db_released(void)
{
    if (cc_metrics_enabled()) {
        apr_atomic_dec64(in_use_counter());
    }
}

void cc_metrics_events_delivered(cc_metrics_transport_e transport, apr_uint64_t n)
{
    if (cc_metrics_enabled() && transport < CC_METRICS_EVENT_TRANSPORTS && n) {
        apr_atomic_add64(&seg->events[transport], n);
    }
}

void cc_metrics_stream_clients(int delta)
{
    if (!cc_metrics_enabled()) {
        return;
    }
    if (delta >= 0) {
        apr_atomic_add64(&seg->stream_clients, (apr_uint64_t)delta);
    }
    else {
        apr_atomic_sub64(&seg->stream_clients, (apr_uint64_t)-(apr_int64_t)delta);
    }
}

void cc_metrics_job_run(const char *job, int failed)
{
    int slot;

    if (!cc_metrics_enabled()) {
        return;
    }
    if ((slot = intern(seg->jobs, CC_METRICS_JOBS, job)) < 0) {
        apr_atomic_inc64(&seg->dropped_jobs);
        return;
    }
    apr_atomic_inc64(&seg->job_runs[slot]);
    if (failed) {
        apr_atomic_inc64(&seg->job_failures[slot]);
    }
    else {
        apr_atomic_set64(&seg->job_last_ok[slot], (apr_uint64_t)apr_time_sec(apr_time_now()));
    }
}

void cc_metrics_sms(cc_metrics_sms_e outcome)
{
    if (cc_metrics_enabled() && outcome < CC_METRICS_SMS_OUTCOMES) {
        apr_atomic_inc64(&seg->sms[outcome]);
    }
}

void cc_metrics_webhook(cc_metrics_webhook_e what)
{
    if (cc_metrics_enabled() && what < CC_METRICS_WEBHOOK_COUNTS) {
        apr_atomic_inc64(&seg->webhook[what]);
    }
}

/* ---- exposition ---- */

typedef struct {
    apr_pool_t *p;
    apr_array_header_t *parts;
} out_t;

static void emit(out_t *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void emit(out_t *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    APR_ARRAY_PUSH(o->parts, const char *) = apr_pvsprintf(o->p, fmt, ap);
    va_end(ap);
}

static void head(out_t *o, const char *name, const char *type, const char *help)
{
    emit(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped. */
static const char *label(apr_pool_t *p, const char *v)
{
    apr_size_t n = 0;
    const char *s;
    char *out, *d;

    for (s = v; *s; s++) {
        n += (*s == '\\' || *s == '"' || *s == '\n') ? 2 : 1;
    }
    d = out = apr_palloc(p, n + 1);
    for (s = v; *s; s++) {
        if (*s == '\\' || *s == '"') {
            *d++ = '\\';
            *d++ = *s;
        }
        else if (*s == '\n') {
            *d++ = '\\';
            *d++ = 'n';
        }
        else {
            *d++ = *s;
        }
    }
    *d = '\0';
    return out;
}

/* One histogram's lines; labels is "" or `a="x",` (with its trailing comma). */
static void emit_hist(out_t *o, const char *name, const char *labels, const hist_t *h,
                      const bounds_t *b)
{
    apr_uint64_t cum = 0;
    apr_uint64_t sum = apr_atomic_read64((volatile apr_uint64_t *)&h->sum_us);
    apr_size_t ll = strlen(labels);
    const char *bare = ll ? apr_pstrndup(o->p, labels, ll - 1) : "";
    int i;

    for (i = 0; i <= b->n; i++) {
        cum += apr_atomic_read64((volatile apr_uint64_t *)&h->bucket[i]);
        emit(o, "%s_bucket{%sle=\"%s\"} %" APR_UINT64_T_FMT "\n", name, labels,
             i < b->n ? b->le[i] : "+Inf", cum);
    }
    emit(o, "%s_sum%s%s%s %" APR_UINT64_T_FMT ".%06" APR_UINT64_T_FMT "\n", name,
         ll ? "{" : "", bare, ll ? "}" : "", sum / 1000000, sum % 1000000);
    emit(o, "%s_count%s%s%s %" APR_UINT64_T_FMT "\n", name, ll ? "{" : "", bare,
         ll ? "}" : "", cum);
}

/* Has the histogram counted anything (the first bucket that has says so)? */
static int hist_used(const hist_t *h, const bounds_t *b)
{
    int i;

    for (i = 0; i <= b->n; i++) {
        if (apr_atomic_read64((volatile apr_uint64_t *)&h->bucket[i])) {
            return 1;
        }
    }
    return 0;
}

#define RD(x) apr_atomic_read64(&(x))

/* The live processes' connections in use (a dead process's count is not). */
static apr_int64_t db_in_use(void)
{
    apr_int64_t n = (apr_int64_t)RD(seg->db_in_use_rest);
    int i;

    for (i = 0; i < CC_METRICS_PROCS; i++) {
        apr_uint32_t pid = apr_atomic_read32(&seg->procs[i].pid);

        if (pid && proc_alive(pid)) {
            n += (apr_int64_t)RD(seg->procs[i].in_use);
        }
    }
    return n;
}

static void render_http(out_t *o)
{
    /* Each ready route's label, escaped once for both series. */
    const char **routes = apr_pcalloc(o->p, sizeof(*routes) * CC_METRICS_ROUTES);
    int slot, m, st;

    for (slot = 0; slot < CC_METRICS_ROUTES; slot++) {
        if (apr_atomic_read32(&seg->routes[slot].state) == SLOT_READY) {
            routes[slot] = label(o->p, seg->routes[slot].name);
        }
    }
    head(o, "cc_http_requests_total", "counter",
         "Requests answered, by route template, method and status.");
    for (slot = 0; slot < CC_METRICS_ROUTES; slot++) {
        for (m = 0; routes[slot] && m < N_METHODS; m++) {
            for (st = 0; st < STATUSES; st++) {
                apr_uint64_t n = RD(seg->requests[slot][m][st]);

                if (n) {
                    emit(o, "cc_http_requests_total{route=\"%s\",method=\"%s\","
                         "status=\"%s\"} %" APR_UINT64_T_FMT "\n", routes[slot],
                         method_names[m],
                         st < STATUS_CODES ? apr_itoa(o->p, status_codes[st]) : "other", n);
                }
            }
        }
    }
    head(o, "cc_http_request_duration_seconds", "histogram",
         "Time from the request line to the log phase, by route template and method "
         "(streams are not timed).");
    for (slot = 0; slot < CC_METRICS_ROUTES; slot++) {
        for (m = 0; routes[slot] && m < N_METHODS; m++) {
            if (hist_used(&seg->latency[slot][m], &request_bounds)) {
                emit_hist(o, "cc_http_request_duration_seconds",
                          apr_psprintf(o->p, "route=\"%s\",method=\"%s\",", routes[slot],
                                       method_names[m]),
                          &seg->latency[slot][m], &request_bounds);
            }
        }
    }
}

static void render_jobs(out_t *o)
{
    static const struct {
        const char *name, *type, *help;
    } job_series[] = {
        { "cc_job_runs_total", "counter", "Background job runs, by task (the job's name)." },
        { "cc_job_failures_total", "counter", "Background job runs that failed, by task." },
        { "cc_job_last_success_timestamp_seconds", "gauge",
          "When a job's last successful run ended (Unix time), by task." },
    };
    int k, slot;

    for (k = 0; k < 3; k++) {
        head(o, job_series[k].name, job_series[k].type, job_series[k].help);
        for (slot = 0; slot < CC_METRICS_JOBS; slot++) {
            apr_uint64_t v = k == 0 ? RD(seg->job_runs[slot])
                           : k == 1 ? RD(seg->job_failures[slot]) : RD(seg->job_last_ok[slot]);

            if (apr_atomic_read32(&seg->jobs[slot].state) != SLOT_READY
                || (k == 2 && v == 0)) {
                continue;
            }
            emit(o, "%s{task=\"%s\"} %" APR_UINT64_T_FMT "\n", job_series[k].name,
                 label(o->p, seg->jobs[slot].name), v);
        }
    }
}

const char *cc_metrics_render(apr_pool_t *p)
{
    static const char *const transports[] = { "stream", "poll" };
    static const char *const outcomes[] = { "sent", "retry", "failed" };
    static const char *const wh_outcomes[] = { "delivered", "failed", "dead" };
    out_t o;
    int i;

    o.p = p;
    o.parts = apr_array_make(p, 1024, sizeof(const char *));
    if (!cc_metrics_enabled()) {
        return "# no shared memory for metrics on this node (see the error log)\n";
    }
    render_http(&o);
    head(&o, "cc_db_connections_in_use", "gauge",
         "Database connections held by requests and jobs, all children.");
    emit(&o, "cc_db_connections_in_use %" APR_INT64_T_FMT "\n", db_in_use());
    head(&o, "cc_db_acquires_total", "counter", "Database connections acquired.");
    emit(&o, "cc_db_acquires_total %" APR_UINT64_T_FMT "\n", RD(seg->db_acquires));
    head(&o, "cc_db_acquire_failures_total", "counter",
         "Acquires that got no connection (answered 503).");
    emit(&o, "cc_db_acquire_failures_total %" APR_UINT64_T_FMT "\n", RD(seg->db_failures));
    head(&o, "cc_db_acquire_wait_seconds", "histogram",
         "Time to get a connection from mod_dbd's pool (its check included).");
    emit_hist(&o, "cc_db_acquire_wait_seconds", "", &seg->db_wait, &acquire_bounds);
    head(&o, "cc_events_delivered_total", "counter", "Events sent to clients, by transport.");
    for (i = 0; i < CC_METRICS_EVENT_TRANSPORTS; i++) {
        emit(&o, "cc_events_delivered_total{transport=\"%s\"} %" APR_UINT64_T_FMT "\n",
             transports[i], RD(seg->events[i]));
    }
    head(&o, "cc_event_stream_clients", "gauge", "Event streams (SSE) open, all children.");
    emit(&o, "cc_event_stream_clients %" APR_INT64_T_FMT "\n",
         (apr_int64_t)RD(seg->stream_clients));
    render_jobs(&o);
    head(&o, "cc_sms_deliveries_total", "counter", "SMS delivery attempts, by outcome.");
    for (i = 0; i < CC_METRICS_SMS_OUTCOMES; i++) {
        emit(&o, "cc_sms_deliveries_total{outcome=\"%s\"} %" APR_UINT64_T_FMT "\n",
             outcomes[i], RD(seg->sms[i]));
    }
    head(&o, "cc_webhook_deliveries_total", "counter", "Webhook calls, by outcome.");
    for (i = 0; i < CC_METRICS_WEBHOOK_DISABLED; i++) {
        emit(&o, "cc_webhook_deliveries_total{outcome=\"%s\"} %" APR_UINT64_T_FMT "\n",
             wh_outcomes[i], RD(seg->webhook[i]));
    }
    head(&o, "cc_webhooks_disabled_total", "counter",
         "Webhook subscriptions disabled by the delivery job (failing too long).");
    emit(&o, "cc_webhooks_disabled_total %" APR_UINT64_T_FMT "\n",
         RD(seg->webhook[CC_METRICS_WEBHOOK_DISABLED]));
    head(&o, "cc_metrics_dropped_total", "counter",
         "Observations not counted: a full name table.");
    emit(&o, "cc_metrics_dropped_total{table=\"routes\"} %" APR_UINT64_T_FMT "\n",
         RD(seg->dropped_routes));
    emit(&o, "cc_metrics_dropped_total{table=\"jobs\"} %" APR_UINT64_T_FMT "\n",
         RD(seg->dropped_jobs));
    return apr_array_pstrcat(p, o.parts, '\0');
}
