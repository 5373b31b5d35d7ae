/*
 * parley_sgemm: batched single-precision GEMM over the system's CBLAS (OpenBLAS on Debian), for
 * tfjs kernels (server/ml/kernels/native-matmul.ts). Synchronous, like every tfjs kernel.
 *
 *   gemm(a, b, out, batch, m, n, k, transA, transB, strideA, strideB)
 *     out[i] = op(a[i]) · op(b[i]) for i < batch, row-major; op transposes when trans* is true;
 *     a[i] starts at i * strideA floats (0 broadcasts one matrix over the batch), b likewise;
 *     out[i] at i * m * n.
 *   setThreads(n), threads()
 */
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cblas.h>

/* OpenBLAS extensions; declared here so that the header of any CBLAS build compiles. */
extern void openblas_set_num_threads(int n);
extern int openblas_get_num_threads(void);

#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != napi_ok) {                                                   \
      napi_throw_error(env, NULL, "parley_sgemm: N-API call failed: " #call);  \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

static bool floats(napi_env env, napi_value value, float **data, size_t *length, const char *name) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) {
    char message[96];
    snprintf(message, sizeof message, "parley_sgemm: %s must be a Float32Array", name);
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  napi_typedarray_type type;
  void *raw = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok ||
      type != napi_float32_array) {
    char message[96];
    snprintf(message, sizeof message, "parley_sgemm: %s must be a Float32Array", name);
    napi_throw_type_error(env, NULL, message);
    return false;
  }
  *data = (float *)raw;
  return true;
}

static bool integer(napi_env env, napi_value value, int64_t *out) {
  if (napi_get_value_int64(env, value, out) != napi_ok || *out < 0) {
    napi_throw_type_error(env, NULL, "parley_sgemm: sizes and strides must be non-negative integers");
    return false;
  }
  return true;
}

static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) {
    napi_throw_type_error(env, NULL, "parley_sgemm: gemm takes 11 arguments");
    return NULL;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!floats(env, argv[0], &a, &la, "a") || !floats(env, argv[1], &b, &lb, "b") ||
      !floats(env, argv[2], &c, &lc, "out"))
    return NULL;
  int64_t batch, m, n, k, sa, sb;
  if (!integer(env, argv[3], &batch) || !integer(env, argv[4], &m) || !integer(env, argv[5], &n) ||
      !integer(env, argv[6], &k))
    return NULL;
  bool ta = false, tb = false;
  CHECK(napi_get_value_bool(env, argv[7], &ta));
  CHECK(napi_get_value_bool(env, argv[8], &tb));
  if (!integer(env, argv[9], &sa) || !integer(env, argv[10], &sb)) return NULL;
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, NULL, "parley_sgemm: a dimension exceeds 2^31-1");
    return NULL;
  }
  /* Bounds: every matrix read or written lies inside its array. */
  if (batch > 0 && ((uint64_t)(batch - 1) * sa + (uint64_t)m * k > la ||
                    (uint64_t)(batch - 1) * sb + (uint64_t)k * n > lb ||
                    (uint64_t)batch * m * n > lc)) {
    napi_throw_range_error(env, NULL, "parley_sgemm: an operand is smaller than its shape");
    return NULL;
  }
  if (k == 0) {
    memset(c, 0, (size_t)(batch * m * n) * sizeof(float));
    return NULL;
  }
  if (m == 0 || n == 0) return NULL;
  const int lda = ta ? (int)m : (int)k;
  const int ldb = tb ? (int)k : (int)n;
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, 1.0f, a + i * sa, lda, b + i * sb, ldb, 0.0f,
                c + i * m * n, (int)n);
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t n = 0;
  if (argc != 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_type_error(env, NULL, "parley_sgemm: setThreads takes a positive integer");
    return NULL;
  }
  openblas_set_num_threads(n);
  return NULL;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &result));
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, threads, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
