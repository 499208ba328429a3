/*
 * Internals of the projections library: the key-value abstraction every projection's apply code
 * writes through (live: the writer's write batch; replay: an in-memory map plus a stream of
 * write-only rows), the ops table of one projection, and helpers shared by the projections
 * (WIB years, the employee history, the policy table, value encoding). Not installed.
 */
#ifndef JPL_PROJ_INTERNAL_H
#define JPL_PROJ_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jpl/ledger.h"
#include "jpl/projections.h"
#include "jpl/store.h"

/* ---- key-value access of one projection family ---- */

typedef struct pmap pmap;
typedef struct prows prows;

typedef enum {
    PKV_LIVE = 0,   /* through the writer's batch (reads see the batch, then the database) */
    PKV_REPLAY = 1, /* in-memory map + emitted rows */
    PKV_READ = 2,   /* queries: reads of one snapshot of the database */
} pkv_mode;

typedef struct {
    pkv_mode mode;
    jpl_store *store;
    int cf;
    jpl_batch *batch; /* live: the writer's batch */
    prows *rows;      /* replay: emitted rows */
    pmap *map;        /* replay: readable state */
    uint8_t *last;    /* live: the value returned by the last get (freed by the next) */
    jpl_ledger *at;   /* read: the snapshot handle every read of the query goes through */
} pkv;

/* Reads key; *v is borrowed until the next call on kv. JPL_ERR_NOT_FOUND if absent. */
jpl_err pkv_get(pkv *kv, const void *k, size_t klen, const uint8_t **v, size_t *vlen, jpl_error *e);
/* Writes a key the projection may read back later. */
jpl_err pkv_put(pkv *kv, const void *k, size_t klen, const void *v, size_t vlen, jpl_error *e);
jpl_err pkv_del(pkv *kv, const void *k, size_t klen, jpl_error *e);
/* Writes a row that apply code never reads back (audit rows): replay streams it to the new
 * family instead of keeping it in memory. Keys must not be read with pkv_get. */
jpl_err pkv_emit(pkv *kv, const void *k, size_t klen, const void *v, size_t vlen, jpl_error *e);
/* Read mode: an iterator over the family from the first key >= start, in the snapshot. */
jpl_iter *pkv_iter(pkv *kv, const void *start, size_t slen);
/* Frees what kv holds (in read mode its snapshot handle: free its iterators first). */
void pkv_release(pkv *kv);

/* A map sized for about expect keys (it grows beyond). */
pmap *pmap_new(size_t expect);
void pmap_free(pmap *m);
size_t pmap_count(const pmap *m);
prows *prows_new(void);
void prows_free(prows *r);

/* Replay: calls fn for every row of the state (map and emitted rows) in key order, one call per
 * key (an emitted key written twice gives its last value). fn's error stops the walk. The
 * state is not changed. */
typedef jpl_err (*pkv_row_fn)(void *ctx, const uint8_t *k, size_t klen, const uint8_t *v,
                              size_t vlen, jpl_error *e);
jpl_err pkv_replay_walk(pkv *kv, pkv_row_fn fn, void *ctx, jpl_error *e);

/* ---- one projection ---- */

typedef struct {
    const char *name;
    /* Applies one committed entry to the projection's state through kv. */
    jpl_err (*apply)(pkv *kv, const jpl_entry_view *v, jpl_error *e);
} proj_ops;

extern const proj_ops jpl_proj_balances_ops;
extern const proj_ops jpl_proj_units_ops;
extern const proj_ops jpl_proj_trail_ops;

/* A read-only pkv on the live family of projection name, as of a snapshot of l taken now (or of
 * l's own snapshot if l is a snapshot handle): every read of the query through it, and through
 * kv->at for the log, sees the same committed groups. Release it with pkv_release.
 * JPL_ERR_NOT_FOUND (with a message saying to run replay) if the projection has no live state. */
jpl_err proj_open_read(jpl_ledger *l, const char *name, pkv *out, jpl_error *e);

/* Checks a NIP given to a query (JPL_ERR_BAD_INPUT) and a year (0 allowed if allow_zero). */
jpl_err proj_check_query(const char *nip, uint32_t year, bool allow_zero, jpl_error *e);

/* The key under which each family stores the number of entries it has applied. */
#define PROJ_APPLIED_KEY "#applied"

/* ---- shared helpers (common.c) ---- */

#define PROJ_UNIT_MAX 128

/* Calendar year of a UTC millisecond time in WIB (UTC+7). */
uint32_t proj_wib_year(uint64_t ms);
/* Calendar date (year, month 1-12, day 1-31) of a UTC millisecond time in WIB. */
void proj_wib_date(uint64_t ms, uint32_t *year, uint32_t *month, uint32_t *day);

/* Growable byte buffer for encoding values. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} pbuf;
void pbuf_put(pbuf *b, const void *data, size_t len);
void pbuf_u8(pbuf *b, uint8_t v);
void pbuf_u16(pbuf *b, uint16_t v);
void pbuf_u32(pbuf *b, uint32_t v);
void pbuf_u64(pbuf *b, uint64_t v);
void pbuf_str(pbuf *b, const char *s); /* u8 length + bytes (truncated at 255) */
void pbuf_free(pbuf *b);

/* Bounds-checked reader of stored values. */
typedef struct {
    const uint8_t *p;
    size_t len, off;
    bool bad;
} prd;
uint8_t prd_u8(prd *r);
uint16_t prd_u16(prd *r);
uint32_t prd_u32(prd *r);
uint64_t prd_u64(prd *r);
const uint8_t *prd_bytes(prd *r, size_t n);
/* Reads a u8-length string into out (cap bytes incl. NUL). */
void prd_str(prd *r, char *out, size_t cap);

/* Employee history: one step per employee_registered / updated / exited, in log order. */
typedef struct {
    uint16_t year; /* WIB year of the event's issued_at_ms */
    uint8_t kind;  /* Jpl__EmployeeKind */
    bool cap_exempt;
    bool exited;
    char unit[PROJ_UNIT_MAX + 1];
    uint16_t contract_md; /* PPPK contract start as month*100+day (401 = 1 April); 0 none */
} proj_step;

typedef struct {
    proj_step *steps;
    size_t n;
} proj_history;

jpl_err proj_history_load(pkv *kv, const char *nip, proj_history *h, bool *found, jpl_error *e);
jpl_err proj_history_decode(const uint8_t *v, size_t vlen, proj_history *h, jpl_error *e);
void proj_history_free(proj_history *h);
/* Adds the step of an employee event (ev about nip) and stores the history under tag||nip. */
jpl_err proj_history_apply(pkv *kv, const char *nip, const Jpl__Event *ev, jpl_error *e);
/* The step that decides year y: the last (log order) with year <= y, else the first. */
const proj_step *proj_history_at(const proj_history *h, uint32_t y);
/* The current (latest in log order) step. */
const proj_step *proj_history_current(const proj_history *h);

/* The year an amount dated ms counts in for an employee whose step st is in force then: for a
 * PPPK with a contract start, the label of the contract year containing the WIB date of ms (the
 * calendar year in which that contract year began; a 29 February start has its anniversary on
 * 1 March in other years); otherwise (PNS, no contract start, st NULL) the WIB calendar year. */
uint32_t proj_count_year(const proj_step *st, uint64_t ms);
/* proj_count_year() with the step of h in force for the WIB year of ms (proj_history_at). */
uint32_t proj_history_count_year(const proj_history *h, uint64_t ms);
/* The same from the history stored for nip in kv (the WIB year if the employee is unknown). */
jpl_err proj_count_year_load(pkv *kv, const char *nip, uint64_t ms, uint32_t *year_out,
                             jpl_error *e);

/* Policy table (every policy_set, by effective year; a later one for the same year replaces). */
jpl_err proj_policy_apply(pkv *kv, const Jpl__PolicySet *p, jpl_error *e);
jpl_err proj_policy_for(pkv *kv, uint32_t year, jpl_policy *out, jpl_error *e);
jpl_err proj_policy_decode_for(const uint8_t *v, size_t vlen, uint32_t year, jpl_policy *out,
                               jpl_error *e);
void proj_policy_defaults(jpl_policy *p);

/* Keys: tag byte + id. */
size_t proj_key(uint8_t *k, char tag, const void *id, size_t len);
size_t proj_key_nip_year(uint8_t *k, char tag, const char *nip, uint32_t year);

/* The employee (NIP) an event is about, as far as the event itself says. */
const char *proj_event_nip(const Jpl__Event *ev);

#endif
