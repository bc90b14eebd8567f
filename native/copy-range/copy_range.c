/*
 * copyFiles(outFd, paths, jobs, state) -> Promise<null | [index, kind, errno, at]>
 *
 * Copies file payloads into an image on one of libuv's pool threads, inside the kernel
 * (copy_file_range(2): one copy, as cat does), while the main thread goes on laying out
 * and writing metadata. Node has no API for in-kernel copies at an offset.
 *
 *   paths  string[]          source files
 *   jobs   Float64Array      per job: path index, length, image offset, check end (0/1),
 *                            source offset (where in the source the job's bytes start)
 *   state  BigInt64Array(2)  [0] bytes copied so far (written here, polled by JS for progress)
 *                            [1] set non-zero by JS to cancel between chunks
 *
 * A job copies `length` bytes of its source from its source offset (0: from the start). Failures stop the copy and
 * resolve with the job index, a kind (KIND_* below), errno and how far it got; the writer
 * turns them into its own coded errors. Where copy_file_range cannot work (another file
 * system, a special file), the job falls back to pread + pwrite through a 1 MiB buffer.
 *
 * Write-behind: the caller fsyncs the image before renaming it into place. Left alone, the
 * kernel writes the copied pages back only when that fsync asks (or after dirty_expire), so
 * the whole image would go to disk after the copy. Instead the written ranges are gathered
 * into windows of WRITEBACK bytes; each full window is handed to the disk at once
 * (sync_file_range SYNC_FILE_RANGE_WRITE) and the one before it waited for, so write-back
 * runs alongside the copy, at most two windows are in flight, and the final fsync finds
 * little left, and dirty pages stay bounded however big the image. BOOTMEDIA_WRITEBACK_MIB
 * sets the window (0 turns write-behind off), BOOTMEDIA_WRITEBACK_WAIT=0 only starts
 * write-back without waiting (for measuring). Measured on a shared 2-core VM (ext4 on
 * virtio): the copy slows by about what the fsync saves; the net gain is within the noise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <node_api.h>

enum { KIND_OK = 0, KIND_OPEN = 1, KIND_READ = 2, KIND_WRITE = 3, KIND_SHRANK = 4, KIND_GREW = 5, KIND_CANCELLED = 6 };
enum { JOB_FIELDS = 5 };
/** Largest single copy, so cancellation and progress are seen at least this often. */
#define CHUNK (8LL << 20)
#define BOUNCE (1 << 20)
/** Default write-behind window (16, 32, 64 and 128 MiB measured alike on the bench machine;
 * larger means fewer calls and waits). */
#define WRITEBACK_DEFAULT (128LL << 20)

typedef struct {
  int out_fd;
  size_t count;
  char **paths;
  size_t path_count;
  double *jobs;
  int64_t *state;
  napi_ref state_ref;
  napi_deferred deferred;
  napi_async_work work;
  /* result */
  int kind;
  int err;
  size_t index;
  int64_t at;
  char *bounce;
  /* write-behind: the window being gathered [lo, hi) and the one handed to the disk before it */
  int64_t wb_size, wb_lo, wb_hi, wb_prev_lo, wb_prev_hi;
  int wb_wait; /* wait for the window before (1, default) or only start write-back (0) */
} Batch;

static int cancelled(Batch *b) { return __atomic_load_n(&b->state[1], __ATOMIC_RELAXED) != 0; }
static void add_progress(Batch *b, int64_t n) { __atomic_fetch_add(&b->state[0], n, __ATOMIC_RELAXED); }

/* One chunk through user space; returns bytes copied, 0 at end of source, -1 with kind set. */
static ssize_t bounce_copy(Batch *b, int in, off64_t at_in, off64_t at_out, size_t want) {
  if (!b->bounce && !(b->bounce = malloc(BOUNCE))) { b->kind = KIND_READ; b->err = ENOMEM; return -1; }
  size_t n = want < BOUNCE ? want : BOUNCE;
  ssize_t r;
  do r = pread(in, b->bounce, n, at_in); while (r < 0 && errno == EINTR);
  if (r < 0) { b->kind = KIND_READ; b->err = errno; return -1; }
  for (ssize_t w = 0; w < r;) {
    ssize_t k = pwrite(b->out_fd, b->bounce + w, (size_t)(r - w), at_out + w);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) { b->kind = KIND_WRITE; b->err = k < 0 ? errno : EIO; return -1; }
    w += k;
  }
  return r;
}

/* Hands the gathered window to the disk and waits for the previous one to land. Errors are
 * left to the final fsync, which reports them (sync_file_range is only a hint here). */
static void writeback_flush(Batch *b) {
  if (b->wb_hi <= b->wb_lo) return;
  sync_file_range(b->out_fd, b->wb_lo, b->wb_hi - b->wb_lo, SYNC_FILE_RANGE_WRITE);
  if (b->wb_wait && b->wb_prev_hi > b->wb_prev_lo)
    sync_file_range(b->out_fd, b->wb_prev_lo, b->wb_prev_hi - b->wb_prev_lo,
                    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
  b->wb_prev_lo = b->wb_lo;
  b->wb_prev_hi = b->wb_hi;
  b->wb_lo = b->wb_hi = 0;
}

/* Records that [at, at + n) of the output was written. Payloads follow each other with small
 * gaps (cluster or sector tails, metadata written by the main thread): a window spans them, as
 * sync_file_range skips pages that are not dirty. A write before the window or more than a
 * window past it starts a new one (measured: a flush per small file, waiting for the one
 * before, made the FAT bench's copy 3x slower). */
static void writeback_note(Batch *b, int64_t at, int64_t n) {
  if (b->wb_size <= 0) return;
  if (b->wb_hi > b->wb_lo && (at < b->wb_lo || at > b->wb_hi + b->wb_size)) writeback_flush(b);
  if (b->wb_hi <= b->wb_lo) b->wb_lo = b->wb_hi = at;
  if (at + n > b->wb_hi) b->wb_hi = at + n;
  if (b->wb_hi - b->wb_lo >= b->wb_size) writeback_flush(b);
}

/* copy_file_range fails for either side; these errnos are the output's. */
static int output_errno(int e) { return e == ENOSPC || e == EFBIG || e == EDQUOT || e == EROFS || e == ETXTBSY; }

/* Copies one job; returns 0 or sets kind/err/at. */
static int copy_job(Batch *b, int in, int64_t from, int64_t length, int64_t dest, int check_end, int *kernel) {
  int64_t done = 0;
  while (done < length) {
    if (cancelled(b)) { b->kind = KIND_CANCELLED; return -1; }
    size_t want = (size_t)(length - done < CHUNK ? length - done : CHUNK);
    ssize_t n = -1;
    if (*kernel) {
      off64_t at_in = from + done, at_out = dest + done;
      n = copy_file_range(in, &at_in, b->out_fd, &at_out, want, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL)) *kernel = 0;
      else if (n < 0) { b->kind = output_errno(errno) ? KIND_WRITE : KIND_READ; b->err = errno; b->at = done; return -1; }
    }
    if (!*kernel) {
      n = bounce_copy(b, in, from + done, dest + done, want);
      if (n < 0) { b->at = done; return -1; }
    }
    if (n == 0) { b->kind = KIND_SHRANK; b->at = done; return -1; }
    writeback_note(b, dest + done, n);
    done += n;
    add_progress(b, n);
  }
  if (check_end) {
    char probe;
    ssize_t r;
    do r = pread(in, &probe, 1, from + length); while (r < 0 && errno == EINTR);
    if (r > 0) { b->kind = KIND_GREW; b->at = length; return -1; }
    if (r < 0) { b->kind = KIND_READ; b->err = errno; b->at = length; return -1; }
  }
  return 0;
}

static void copy_all(Batch *b);

static void execute(napi_env env, void *data) {
  (void)env;
  Batch *b = data;
  copy_all(b);
  writeback_flush(b); /* the last window goes to the disk too (not waited for: the caller's fsync does) */
}

static void copy_all(Batch *b) {
  int kernel = 1;
  for (size_t i = 0; i < b->count; i++) {
    double *j = b->jobs + i * JOB_FIELDS;
    size_t path = (size_t)j[0];
    b->index = i;
    if (path >= b->path_count) { b->kind = KIND_OPEN; b->err = EINVAL; return; }
    int in = open(b->paths[path], O_RDONLY | O_CLOEXEC);
    if (in < 0) { b->kind = KIND_OPEN; b->err = errno; return; }
    int failed = copy_job(b, in, (int64_t)j[4], (int64_t)j[1], (int64_t)j[2], j[3] != 0, &kernel);
    close(in);
    if (failed) return;
  }
  b->kind = KIND_OK;
}

static void free_batch(Batch *b) {
  if (b->paths) for (size_t i = 0; i < b->path_count; i++) free(b->paths[i]);
  free(b->paths);
  free(b->jobs);
  free(b->bounce);
  free(b);
}

static void complete(napi_env env, napi_status status, void *data) {
  Batch *b = data;
  napi_value result;
  if (status != napi_ok) { b->kind = KIND_CANCELLED; b->err = 0; }
  if (b->kind == KIND_OK) {
    napi_get_null(env, &result);
  } else {
    napi_value v;
    napi_create_array_with_length(env, 4, &result);
    napi_create_int64(env, (int64_t)b->index, &v); napi_set_element(env, result, 0, v);
    napi_create_int32(env, b->kind, &v); napi_set_element(env, result, 1, v);
    napi_create_int32(env, b->err, &v); napi_set_element(env, result, 2, v);
    napi_create_int64(env, b->at, &v); napi_set_element(env, result, 3, v);
  }
  napi_resolve_deferred(env, b->deferred, result);
  napi_delete_reference(env, b->state_ref);
  napi_delete_async_work(env, b->work);
  free_batch(b);
}

static napi_value fail(napi_env env, Batch *b, const char *message) {
  if (b) free_batch(b);
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value copy_files(napi_env env, napi_callback_info info) {
  static const char *usage = "copyFiles(outFd, paths: string[], jobs: Float64Array, state: BigInt64Array(2))";
  size_t argc = 4;
  napi_value args[4];
  int32_t out_fd;
  uint32_t path_count;
  bool is_array;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc != 4 ||
      napi_get_value_int32(env, args[0], &out_fd) != napi_ok ||
      napi_is_array(env, args[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, args[1], &path_count) != napi_ok) return fail(env, NULL, usage);

  napi_typedarray_type jobs_type, state_type;
  size_t jobs_len, state_len;
  void *jobs_data, *state_data;
  if (napi_get_typedarray_info(env, args[2], &jobs_type, &jobs_len, &jobs_data, NULL, NULL) != napi_ok || jobs_type != napi_float64_array ||
      jobs_len % JOB_FIELDS != 0 ||
      napi_get_typedarray_info(env, args[3], &state_type, &state_len, &state_data, NULL, NULL) != napi_ok || state_type != napi_bigint64_array ||
      state_len < 2) return fail(env, NULL, usage);

  Batch *b = calloc(1, sizeof *b);
  if (!b) return fail(env, NULL, "copyFiles: out of memory");
  b->out_fd = out_fd;
  const char *wb = getenv("BOOTMEDIA_WRITEBACK_MIB"); /* read here: getenv on a pool thread could race a setenv */
  b->wb_size = wb && *wb ? (int64_t)atoll(wb) << 20 : WRITEBACK_DEFAULT;
  const char *wb_wait = getenv("BOOTMEDIA_WRITEBACK_WAIT");
  b->wb_wait = wb_wait && *wb_wait ? atoi(wb_wait) : 1;
  b->count = jobs_len / JOB_FIELDS;
  b->path_count = path_count;
  b->paths = calloc(path_count ? path_count : 1, sizeof(char *));
  b->jobs = malloc(jobs_len ? jobs_len * sizeof(double) : 1);
  b->state = state_data;
  if (!b->paths || !b->jobs) return fail(env, b, "copyFiles: out of memory");
  memcpy(b->jobs, jobs_data, jobs_len * sizeof(double));
  for (uint32_t i = 0; i < path_count; i++) {
    napi_value p;
    size_t n;
    if (napi_get_element(env, args[1], i, &p) != napi_ok || napi_get_value_string_utf8(env, p, NULL, 0, &n) != napi_ok) return fail(env, b, usage);
    b->paths[i] = malloc(n + 1);
    if (!b->paths[i]) return fail(env, b, "copyFiles: out of memory");
    napi_get_value_string_utf8(env, p, b->paths[i], n + 1, &n);
  }
  napi_value promise, name;
  napi_create_reference(env, args[3], 1, &b->state_ref); /* keeps the state buffer alive */
  napi_create_promise(env, &b->deferred, &promise);
  napi_create_string_utf8(env, "bootmedia:copyFiles", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, b, &b->work);
  napi_queue_async_work(env, b->work);
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "copyFiles", NAPI_AUTO_LENGTH, copy_files, NULL, &fn);
  napi_set_named_property(env, exports, "copyFiles", fn);
  /* The job layout this build reads: a helper built before the source offset (4 fields) is refused by index.ts. */
  napi_value fields;
  napi_create_int32(env, JOB_FIELDS, &fields);
  napi_set_named_property(env, exports, "jobFields", fields);
  return exports;
}
