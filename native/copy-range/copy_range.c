/*
 * copyRange(fdIn, offIn, fdOut, offOut, length) -> bytes copied.
 *
 * Node has no API for copy_file_range(2) at given offsets; the ISO writer needs it to
 * move file payloads into the image inside the kernel (one copy, as cat does) instead of
 * read + write through user space (two copies). Returns fewer bytes than asked only at
 * the source's end of file; the caller treats that as "the source shrank".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <node_api.h>

static napi_value copy_range(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value args[5];
  int32_t fd_in, fd_out;
  int64_t off_in, off_out, length;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc != 5 ||
      napi_get_value_int32(env, args[0], &fd_in) != napi_ok || napi_get_value_int64(env, args[1], &off_in) != napi_ok ||
      napi_get_value_int32(env, args[2], &fd_out) != napi_ok || napi_get_value_int64(env, args[3], &off_out) != napi_ok ||
      napi_get_value_int64(env, args[4], &length) != napi_ok) {
    napi_throw_type_error(env, NULL, "copyRange(fdIn, offIn, fdOut, offOut, length)");
    return NULL;
  }
  off64_t in = off_in, out = off_out;
  int64_t done = 0;
  while (done < length) {
    ssize_t n = copy_file_range(fd_in, &in, fd_out, &out, (size_t)(length - done), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      napi_throw_error(env, errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP ? "ENOTSUP" : "EIO", strerror(errno));
      return NULL;
    }
    if (n == 0) break;
    done += n;
  }
  napi_value result;
  napi_create_int64(env, done, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "copyRange", NAPI_AUTO_LENGTH, copy_range, NULL, &fn);
  napi_set_named_property(env, exports, "copyRange", fn);
  return exports;
}
